package packaging

import (
	"context"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/cowdisk/cowdisk/internal/devcluster"
	"github.com/cowdisk/cowdisk/internal/testmode"
)

// serverUsers are the Ceph users of the two servers; their caps are read
// from the commands docs/operations.md gives the operator (docCaps).
var serverUsers = []string{"glance", "cinder"}

// bootCluster boots a dev cluster of this test's own (the test pauses its
// daemons; a shared one must never be touched) and the documented users,
// with new keys or, when reuse names their keyrings, with those keys.
func bootCluster(t *testing.T, reuse map[string]string) (*devcluster.Cluster, map[string]string) {
	t.Helper()
	testmode.Needs(t, "a Ceph dev cluster of its own")
	need(t, "ceph-mon", "ceph-mon")
	dir, err := os.MkdirTemp("", "cowdisk-pkg-cl-")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	dc, err := devcluster.Up(ctx, devcluster.Options{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		// A test that failed mid-pause leaves a stopped daemon: continue it
		// so that it can be stopped.
		_ = syscall.Kill(dc.OSDPID, syscall.SIGCONT)
		_ = syscall.Kill(dc.MonPID, syscall.SIGCONT)
		if err := devcluster.Down(context.Background(), dir); err != nil {
			t.Errorf("dev cluster down: %v", err)
		}
	})
	keyrings := map[string]string{}
	keyDir := t.TempDir() // outlives the cluster's directory (TestReplacedClusterAnswers)
	for _, user := range serverUsers {
		caps := docCaps(t, user)
		kr, verb := filepath.Join(keyDir, "ceph.client."+user+".keyring"), []string{"get-or-create", "-o"}
		if reuse != nil {
			kr, verb = reuse[user], []string{"add", "-i"}
		}
		args := append([]string{"-c", dc.ConfPath, "-k", dc.KeyringPath, "--connect-timeout", "15",
			"auth", verb[0], "client." + user}, caps...)
		if out, err := exec.CommandContext(ctx, "ceph", append(args, verb[1], kr)...).CombinedOutput(); err != nil {
			t.Fatalf("ceph auth %s client.%s: %v\n%s", verb[0], user, err, out)
		}
		keyrings[user] = kr
	}
	return dc, keyrings
}

// copyConf gives a server a ceph.conf of its own, so the test can change
// the fsid it names without touching the cluster's.
func copyConf(t *testing.T, src string) string {
	t.Helper()
	b, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), "ceph.conf")
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestServersAsAnOperatorRunsThem starts the built binary's two servers as
// an operator would: the image service from a TOML config, the node agent
// from COWDISK_NODE_* variables only, each as its own Ceph user with the
// documented caps and no CEPH_* variables. Then it reads what a person (or
// a probe) reads: /readyz while the OSD and the monitor are paused and
// after the cluster is "replaced", and /metrics against the alert rules
// and the dashboard.
func TestServersAsAnOperatorRunsThem(t *testing.T) {
	bin := binary(t)
	dc, keyrings := bootCluster(t, nil)
	imagesConf, nodeConf := copyConf(t, dc.ConfPath), copyConf(t, dc.ConfPath)

	images, node := startBoth(t, bin, map[string]string{"images": imagesConf, "node": nodeConf}, keyrings, false)
	servers := map[string]*server{"images": images, "node": node}
	both := func(path, what string, ok func(health) bool) map[string]health {
		t.Helper()
		out := map[string]health{}
		for name, s := range servers {
			out[name] = waitHealth(t, s, path, what, ok)
		}
		return out
	}

	t.Run("one body shape", func(t *testing.T) {
		got := both("/readyz", "ready", ready)
		for _, path := range []string{"/livez", "/healthz"} {
			for name, s := range servers {
				h, err := probe(s.base, path)
				if err != nil || !ready(h) {
					t.Errorf("%s %s: %+v %v", name, path, h, err)
				}
			}
		}
		ik, nk := got["images"].keys, got["node"].keys
		sort.Strings(ik)
		sort.Strings(nk)
		if !slices.Equal(ik, nk) || !slices.Contains(ik, "status") {
			t.Errorf("/readyz bodies differ: images %v, node %v", ik, nk)
		}
	})

	t.Run("a disk by clone with the documented caps", func(t *testing.T) {
		var img struct{ ID string }
		call(t, "POST", images.base+"/v2/images", map[string]any{"name": "pkg", "disk_format": "raw",
			"container_format": "bare"}, http.StatusCreated, &img)
		call(t, "PUT", images.base+"/v2/images/"+img.ID+"/file", make([]byte, 4<<20), http.StatusNoContent, nil)
		inst := uuid.NewString()
		var d struct{ Method, Pool string }
		call(t, "POST", node.base+"/v1/disks", map[string]any{"instance_id": inst, "image_id": img.ID},
			http.StatusCreated, &d)
		if d.Method != "clone" || d.Pool != "vms" {
			t.Errorf("disk %+v, want a clone in vms", d)
		}
		// A refused request, so the failure counter has a series too.
		if resp, err := http.Post(node.base+"/v1/disks", "application/json",
			strings.NewReader(`{"instance_id":"`+uuid.NewString()+`","image_id":"`+uuid.NewString()+`"}`)); err == nil {
			resp.Body.Close()
		}
		t.Run("metrics the rules and dashboard use exist", func(t *testing.T) { checkMetricNames(t, images, node) })
		// For the sizing section of docs/operations.md.
		t.Logf("resident memory after one upload and one clone: images %s, node %s",
			metricLine(t, images, "process_resident_memory_bytes"), metricLine(t, node, "process_resident_memory_bytes"))
		call(t, "DELETE", node.base+"/v1/instances/"+inst+"/disks", nil, http.StatusNoContent, nil)
		call(t, "POST", node.base+"/v1/cache/prune", nil, http.StatusOK, nil)
		call(t, "DELETE", images.base+"/v2/images/"+img.ID, nil, http.StatusNoContent, nil)
	})

	for _, d := range []struct {
		name string
		pid  int
	}{{"osd", dc.OSDPID}, {"mon", dc.MonPID}} {
		t.Run("paused "+d.name, func(t *testing.T) {
			if err := syscall.Kill(d.pid, syscall.SIGSTOP); err != nil {
				t.Fatal(err)
			}
			got := both("/readyz", "unready naming ceph", notReadyFor("ceph:"))
			t.Logf("while the %s is paused: %+v", d.name, got)
			for name, s := range servers {
				if h, err := probe(s.base, "/livez"); err != nil || !ready(h) {
					t.Errorf("%s /livez while the %s is paused: %+v %v", name, d.name, h, err)
				}
			}
			if err := syscall.Kill(d.pid, syscall.SIGCONT); err != nil {
				t.Fatal(err)
			}
			both("/readyz", "ready again", ready)
		})
	}

	t.Run("replaced cluster", func(t *testing.T) {
		other := uuid.NewString()
		for _, conf := range []string{imagesConf, nodeConf} {
			rewriteFSID(t, conf, dc.FSID, other)
		}
		got := both("/readyz", "unready: cluster replaced", notReadyFor("cluster replaced"))
		for name, h := range got {
			if r := strings.Join(h.Reasons, " "); !strings.Contains(r, other) || !strings.Contains(r, dc.FSID) {
				t.Errorf("%s: reason %q names not both fsids", name, r)
			}
		}
		for _, conf := range []string{imagesConf, nodeConf} {
			rewriteFSID(t, conf, other, dc.FSID)
		}
		both("/readyz", "ready again", ready)
	})
}

// metricLine returns the value of an unlabelled metric as the server exports it.
func metricLine(t *testing.T, s *server, name string) string {
	resp, err := http.Get(s.base + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	b := new(strings.Builder)
	_, _ = ioCopy(b, resp)
	for _, l := range strings.Split(b.String(), "\n") {
		if v, ok := strings.CutPrefix(l, name+" "); ok {
			return v
		}
	}
	return "(absent)"
}

func rewriteFSID(t *testing.T, conf, from, to string) {
	t.Helper()
	b, err := os.ReadFile(conf)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), from) {
		t.Fatalf("%s does not name fsid %s", conf, from)
	}
	if err := os.WriteFile(conf, []byte(strings.ReplaceAll(string(b), from, to)), 0o644); err != nil {
		t.Fatal(err)
	}
}

// metricRef finds the metric names a PromQL expression in the rules or the
// dashboard uses.
var metricRef = regexp.MustCompile(`\bcowdisk_[a-z_]+`)

// checkMetricNames: every cowdisk_* name in the alert rules and the
// dashboard is exported by one of the running servers (histograms by
// their _bucket series).
func checkMetricNames(t *testing.T, servers ...*server) {
	var exported strings.Builder
	for _, s := range servers {
		resp, err := http.Get(s.base + "/metrics")
		if err != nil {
			t.Fatal(err)
		}
		b := new(strings.Builder)
		_, _ = ioCopy(b, resp)
		exported.WriteString(b.String())
	}
	have := map[string]bool{}
	for _, m := range metricRef.FindAllString(exported.String(), -1) {
		have[m] = true
	}
	for _, f := range []string{"monitoring/cowdisk-alerts.yml", "monitoring/cowdisk-dashboard.json"} {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range metricRef.FindAllString(string(b), -1) {
			if !have[m] {
				t.Errorf("%s uses %s, which neither server exports", f, m)
			}
		}
	}
}
