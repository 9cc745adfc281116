package servecmd

import (
	"bytes"
	"context"
	"crypto/sha512"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/cowdisk/cowdisk/internal/bench/procs"
)

// nodeChildEnv, when set, makes the test binary a node agent with these
// arguments (one a line) instead of running tests: a process the crash
// test can kill with SIGKILL.
const nodeChildEnv = "COWDISK_TEST_NODE_CHILD_ARGS"

func TestMain(m *testing.M) {
	if args := os.Getenv(nodeChildEnv); args != "" {
		ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
		defer stop()
		c := NodeCommand()
		c.SetArgs(strings.Split(args, "\n"))
		if err := c.ExecuteContext(ctx); err != nil {
			fmt.Fprintln(os.Stderr, "node child:", err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// nodeChild is a node agent in its own process on a free loopback port.
type nodeChild struct {
	cmd  *exec.Cmd
	url  string
	logs *bytes.Buffer
}

func startNodeChild(t *testing.T, args ...string) *nodeChild {
	t.Helper()
	port, err := procs.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	n := &nodeChild{url: "http://" + addr, logs: &bytes.Buffer{}}
	n.cmd = exec.Command(os.Args[0], "-test.run=^$")
	n.cmd.Env = append(os.Environ(), nodeChildEnv+"="+strings.Join(append([]string{"--listen", addr}, args...), "\n"))
	n.cmd.Stdout, n.cmd.Stderr = n.logs, n.logs
	if err := n.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { n.kill() })
	waitFor(t, "the node agent to be ready: "+n.logs.String(), func() bool {
		resp, err := http.Get(n.url + "/readyz")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	})
	return n
}

// kill ends the child at once, as a crash would (SIGKILL: no clean-up).
func (n *nodeChild) kill() {
	if n.cmd.ProcessState == nil {
		_ = n.cmd.Process.Kill()
		_ = n.cmd.Wait()
	}
}

// stop ends the child as its supervisor would (SIGTERM) and waits.
func (n *nodeChild) stop(t *testing.T) {
	if err := n.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := n.cmd.Wait(); err != nil {
		t.Fatalf("node agent after SIGTERM: %v\n%s", err, n.logs.String())
	}
}

// waitFor polls ok until it holds; a minute without is a failure.
func waitFor(t *testing.T, what string, ok func() bool) {
	t.Helper()
	for deadline := time.Now().Add(time.Minute); !ok(); time.Sleep(50 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("waited a minute for %s", what)
		}
	}
}

// stallingImages serves one raw image whose download stops after its
// first MiB and never finishes: a create is then mid-download for as long
// as the test wants.
func stallingImages(t *testing.T, id string, size int) string {
	data := make([]byte, size)
	sum := sha512.Sum512(data)
	rec := fmt.Sprintf(`{"id":%q,"status":"active","disk_format":"raw","container_format":"bare","size":%d,"os_hash_algo":"sha512","os_hash_value":%q}`,
		id, size, hex.EncodeToString(sum[:]))
	mux := http.NewServeMux()
	mux.HandleFunc("GET /v2/images/{id}", func(w http.ResponseWriter, _ *http.Request) { fmt.Fprint(w, rec) })
	mux.HandleFunc("GET /v2/images/{id}/file", func(w http.ResponseWriter, r *http.Request) {
		w.Write(data[:1<<20])
		w.(http.Flusher).Flush()
		<-r.Context().Done()
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv.URL
}

// A node agent killed mid-create leaves its download in its staging
// directory. The next start's reaper removes that directory whole, and
// nothing it did not make: files in bases/ and disks/ named like the
// temporaries of old are left alone.
func TestNodeCrashLeftoversReaped(t *testing.T) {
	const id = "c0a5e000-0000-4000-8000-000000000001"
	dir := t.TempDir()
	planted := []string{filepath.Join(dir, "bases", id+".tmp-src-1"), filepath.Join(dir, "bases", "x.tmp-hostC-1"),
		filepath.Join(dir, "disks", "i1_disk.qcow2.tmp-local-2")}
	for _, p := range planted {
		if err := os.MkdirAll(filepath.Dir(p), 0o750); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte("not the node's"), 0o640); err != nil {
			t.Fatal(err)
		}
	}
	args := []string{"--backend", "local", "--local-dir", dir, "--auth", "none",
		"--image-service", stallingImages(t, id, 8<<20)}
	first := startNodeChild(t, args...)
	var wg sync.WaitGroup
	defer wg.Wait()
	wg.Go(func() { // ends when the agent dies under it
		resp, err := http.Post(first.url+"/v1/disks", "application/json",
			strings.NewReader(fmt.Sprintf(`{"instance_id":"i1","image_id":%q}`, id)))
		if err == nil {
			resp.Body.Close()
		}
	})
	var staged []string
	waitFor(t, "the download to reach the staging directory", func() bool {
		staged, _ = filepath.Glob(filepath.Join(dir, "staging", "*", "*"))
		return len(staged) > 0
	})
	first.kill()
	for _, p := range staged {
		if _, err := os.Stat(p); err != nil {
			t.Fatalf("the crash left no temporary to reap: %v", err)
		}
	}

	second := startNodeChild(t, args...)
	for _, p := range staged {
		if _, err := os.Stat(filepath.Dir(p)); err == nil {
			t.Errorf("the dead agent's staging directory %s is still there", filepath.Dir(p))
		}
	}
	for _, p := range planted {
		if b, err := os.ReadFile(p); err != nil || string(b) != "not the node's" {
			t.Errorf("%s, not the node's, was touched: %v", p, err)
		}
	}
	left, _ := filepath.Glob(filepath.Join(dir, "*", "*"))
	var want []string
	for _, p := range left {
		if !slices.Contains(planted, p) && filepath.Base(filepath.Dir(p)) != "staging" {
			want = append(want, p)
		}
	}
	if len(want) != 0 {
		t.Errorf("left besides the planted files and the live agent's staging directory: %v", want)
	}
	if !strings.Contains(second.logs.String(), "reaped") {
		t.Errorf("the second start did not log what it reaped:\n%s", second.logs.String())
	}
	second.stop(t)
	if left, _ := filepath.Glob(filepath.Join(dir, "staging", "*")); len(left) != 0 {
		t.Errorf("a clean stop left staging directories: %v", left)
	}
}
