package imagesvc

import (
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/cowdisk/cowdisk/internal/ceph"
	"github.com/cowdisk/cowdisk/internal/testcluster"
)

// testLease is short so the sweep of a dead replica's upload comes soon.
const testLease = 3 * time.Second

// startReplicaProcess runs `bin/cowdisk serve images` (make build) on the
// catalog db and the test pool, and waits for /healthz.
func startReplicaProcess(t *testing.T, db, pool string) (*exec.Cmd, string) {
	t.Helper()
	bin, err := filepath.Abs("../../bin/cowdisk")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(bin); err != nil {
		t.Fatalf("the binary under test: %v (run make build)", err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	dir := t.TempDir()
	tokens := filepath.Join(dir, "tokens.json")
	os.WriteFile(tokens, []byte(`{"tokens":[{"token":"member","project":"p1","roles":["member"]}]}`), 0o600)
	cmd := exec.Command(bin, "serve", "images", "--listen", addr, "--db", db, "--data-dir", dir,
		"--store", "rbd", "--rbd-pool", pool, "--ceph-conf", testcluster.Config(t).ConfPath,
		"--auth", "tokens", "--tokens-file", tokens, "--lease-ttl", testLease.String())
	cmd.Stderr, cmd.Stdout = t.Output(), t.Output()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	waitFor(t, 60*time.Second, "replica process healthy", func() bool {
		resp, err := http.Get("http://" + addr + "/healthz")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == 200
	})
	return cmd, addr
}

func waitFor(t *testing.T, limit time.Duration, what string, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %s", what, limit)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// stalledUpload starts an upload to addr that sends half its data and
// then waits; close the returned writer's peer (or kill the server).
func stalledUpload(t *testing.T, addr, id string) *io.PipeWriter {
	t.Helper()
	pr, pw := io.Pipe()
	req, _ := http.NewRequest("PUT", "http://"+addr+"/v2/images/"+id+"/file", pr)
	req.Header.Set("X-Auth-Token", "member")
	req.Header.Set("Content-Type", "application/octet-stream")
	req.ContentLength = 32 << 20
	go func() {
		if resp, err := http.DefaultClient.Do(req); err == nil {
			resp.Body.Close()
		}
	}()
	go pw.Write(make([]byte, 16<<20))
	return pw
}

func imageStatus(t *testing.T, s *Service, id string) string {
	t.Helper()
	_, body := call(t, s, "GET", "/v2/images/"+id, "member", "", "")
	var img struct{ Status string }
	json.Unmarshal([]byte(body), &img)
	return img.Status
}

func temporaries(t *testing.T, c *ceph.Cluster, pool string) []string {
	t.Helper()
	names, err := c.ListImages(context.Background(), pool)
	if err != nil {
		t.Fatal(err)
	}
	var tmp []string
	for _, n := range names {
		if strings.Contains(n, ".tmp-") {
			tmp = append(tmp, n)
		}
	}
	return tmp
}

// TestReplicaKilledMidUpload: a replica process killed (SIGKILL) in the
// middle of an upload leaves the image saving and a temporary RBD image;
// the other replica, live all along, sweeps both once the lease expires —
// the image is queued again, the pool clean — and the image can then be
// uploaded through it.
func TestReplicaKilledMidUpload(t *testing.T) {
	svcs, c, pool, db := startReplicas(t, 1, func(cfg *Config) { cfg.LeaseTTL = testLease })
	b := svcs[0]
	a, addr := startReplicaProcess(t, db, pool)
	id := createImage(t, b, "killed")
	pw := stalledUpload(t, addr, id)
	defer pw.Close()
	waitFor(t, 30*time.Second, "upload on the process replica under way", func() bool {
		return imageStatus(t, b, id) == "saving" && len(temporaries(t, c, pool)) == 1
	})
	if err := a.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	a.Wait()
	// The removal waits out the killed writer's watch (~30 s).
	waitFor(t, 120*time.Second, "the live replica swept the dead one's upload", func() bool {
		return imageStatus(t, b, id) == "queued" && len(temporaries(t, c, pool)) == 0
	})
	if code, body := call(t, b, "PUT", "/v2/images/"+id+"/file", "member", "application/octet-stream",
		strings.Repeat("x", 1<<20)); code != 204 {
		t.Fatalf("upload after the sweep: %d %s", code, body)
	}
	if st := imageStatus(t, b, id); st != "active" {
		t.Fatalf("after the upload: %s", st)
	}
	call(t, b, "DELETE", "/v2/images/"+id, "member", "", "")
	testcluster.AssertPoolClean(t, c, pool)
}

// TestStartupSparesLiveUpload: a replica starting while another one is
// in the middle of an upload leaves that upload alone; it completes.
func TestStartupSparesLiveUpload(t *testing.T) {
	svcs, c, pool, db := startReplicas(t, 1, func(cfg *Config) { cfg.LeaseTTL = testLease })
	b := svcs[0]
	id := createImage(t, b, "live")
	pw := stalledUpload(t, b.Addr(), id)
	waitFor(t, 30*time.Second, "upload under way", func() bool {
		return imageStatus(t, b, id) == "saving" && len(temporaries(t, c, pool)) == 1
	})
	late, _, _, _ := startRBD(t, func(cfg *Config) { cfg.DB, cfg.LeaseTTL = db, testLease })
	// Past the late replica's start-up sweep and two lease lives: the
	// heartbeat keeps the upload's lease, so nothing is swept.
	time.Sleep(2 * testLease)
	if st := imageStatus(t, late, id); st != "saving" {
		t.Fatalf("live upload seen as %s by the new replica", st)
	}
	if n := len(temporaries(t, c, pool)); n != 1 {
		t.Fatalf("live upload's temporary swept: %d left", n)
	}
	pw.Write(make([]byte, 16<<20))
	pw.Close()
	waitFor(t, 60*time.Second, "upload finished", func() bool { return imageStatus(t, late, id) == "active" })
	call(t, late, "DELETE", "/v2/images/"+id, "member", "", "")
	testcluster.AssertPoolClean(t, c, pool)
}
