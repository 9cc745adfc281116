package packaging

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cowdisk/cowdisk/internal/devcluster"
)

// TestReplacedClusterAnswers: with a ceph.conf that names no fsid (a
// minimal one is allowed), the cluster the servers connected to goes away
// and another one answers at the address ceph.conf names. Both servers
// must say so — not time out forever — naming both fsids; with
// --exit-when-replaced they exit with that error, for systemd to restart
// them against the new cluster.
func TestReplacedClusterAnswers(t *testing.T) {
	bin := binary(t)
	a, keyrings := bootCluster(t, nil)
	confs := map[string]string{"images": noFSID(t, a.ConfPath), "node": noFSID(t, a.ConfPath)}
	images, node := startBoth(t, bin, confs, keyrings, true)
	servers := map[string]*server{"images": images, "node": node}
	for _, s := range servers {
		waitHealth(t, s, "/readyz", "ready", ready)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	if err := devcluster.Down(ctx, a.Dir); err != nil {
		t.Fatal(err)
	}
	b, _ := bootCluster(t, keyrings) // the same users and keys: only the fsid tells them apart
	newConf, err := os.ReadFile(noFSID(t, b.ConfPath))
	if err != nil {
		t.Fatal(err)
	}
	for _, conf := range confs {
		if err := os.WriteFile(conf, newConf, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for name, s := range servers {
		select {
		case <-s.done:
		case <-time.After(2 * time.Minute):
			t.Fatalf("%s still running 2 minutes after its cluster was replaced; log:\n%s", name, s.logText())
		}
		log := s.logText()
		if s.err == nil || !strings.Contains(log, "cluster replaced") || !strings.Contains(log, a.FSID) ||
			!strings.Contains(log, b.FSID) {
			t.Errorf("%s exited with %v; want an error naming the replaced cluster and both fsids; log:\n%s", name, s.err, log)
		}
		t.Logf("%s: %s", name, lastLine(log))
	}
}

func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return lines[len(lines)-1]
}

// noFSID copies a ceph.conf without its fsid line.
func noFSID(t *testing.T, src string) string {
	t.Helper()
	b, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	var keep []string
	for _, l := range strings.Split(string(b), "\n") {
		if !strings.HasPrefix(strings.TrimSpace(l), "fsid") {
			keep = append(keep, l)
		}
	}
	p := filepath.Join(t.TempDir(), "ceph.conf")
	if err := os.WriteFile(p, []byte(strings.Join(keep, "\n")), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// startBoth starts the image service (TOML config) and the node agent
// (COWDISK_NODE_* only) as the documented Ceph users, checking every
// half second with a 2 s bound. nodeEnv adds COWDISK_NODE_* settings.
func startBoth(t *testing.T, bin string, confs, keyrings map[string]string, exitWhenReplaced bool, nodeEnv ...string) (images, node *server) {
	t.Helper()
	imagesAddr, nodeAddr := freeAddr(t), freeAddr(t)
	cfgFile := filepath.Join(t.TempDir(), "images.toml")
	if err := os.WriteFile(cfgFile, []byte(fmt.Sprintf(`listen = %q
data-dir = %q
store = "rbd"
rbd-pool = "images"
ceph-conf = %q
ceph-user = "glance"
ceph-keyring = %q
health-interval = "500ms"
health-timeout = "2s"
exit-when-replaced = %t
`, imagesAddr, t.TempDir(), confs["images"], keyrings["glance"], exitWhenReplaced)), 0o600); err != nil {
		t.Fatal(err)
	}
	images = startServer(t, bin, imagesAddr, cleanEnv(), "serve", "images", "--config", cfgFile)
	node = startServer(t, bin, nodeAddr, cleanEnv(append([]string{
		"COWDISK_NODE_LISTEN=" + nodeAddr, // ignored before: the agent bound :9393
		"COWDISK_NODE_IMAGE_SERVICE=http://" + imagesAddr,
		"COWDISK_NODE_CEPH_CONF=" + confs["node"],
		"COWDISK_NODE_CEPH_USER=cinder",
		"COWDISK_NODE_CEPH_KEYRING=" + keyrings["cinder"],
		"COWDISK_NODE_HEALTH_INTERVAL=500ms",
		"COWDISK_NODE_HEALTH_TIMEOUT=2s",
		fmt.Sprintf("COWDISK_NODE_EXIT_WHEN_REPLACED=%t", exitWhenReplaced),
	}, nodeEnv...)...), "serve", "node")
	return images, node
}
