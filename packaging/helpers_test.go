package packaging

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
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
)

// need returns the path of an external program or fails the test naming
// the package that ships it: a missing tool is a failure, never a skip.
func need(t *testing.T, prog, pkg string) string {
	t.Helper()
	p, err := exec.LookPath(prog)
	if err != nil {
		t.Fatalf("%s is missing (install the Debian package %s; scripts/install-test-deps does): %v", prog, pkg, err)
	}
	return p
}

// binary is the cowdisk under test: $COWDISK_BIN or bin/cowdisk of this
// checkout (make build).
func binary(t *testing.T) string {
	t.Helper()
	bin := os.Getenv("COWDISK_BIN")
	if bin == "" {
		bin = "../bin/cowdisk"
	}
	abs, err := filepath.Abs(bin)
	if err == nil {
		_, err = os.Stat(abs)
	}
	if err != nil {
		t.Fatalf("cowdisk binary (run make build, or set COWDISK_BIN): %v", err)
	}
	return abs
}

// cleanEnv is this process's environment without anything that points a
// server at a cluster or configures it, so each test says exactly what
// the server gets.
func cleanEnv(extra ...string) []string {
	var env []string
	for _, kv := range os.Environ() {
		if strings.HasPrefix(kv, "CEPH_") || strings.HasPrefix(kv, "COWDISK_") {
			continue
		}
		env = append(env, kv)
	}
	return append(env, extra...)
}

// server is a cowdisk server process the test started; stopped by pid.
type server struct {
	cmd  *exec.Cmd
	log  string
	base string
	done chan struct{} // closed when the process has exited; then err is its exit
	err  error
}

func startServer(t *testing.T, bin, addr string, env []string, args ...string) *server {
	t.Helper()
	logPath := filepath.Join(t.TempDir(), "server.log")
	logf, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, args...)
	cmd.Env, cmd.Stdout, cmd.Stderr = env, logf, logf
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	s := &server{cmd: cmd, log: logPath, base: "http://" + addr, done: make(chan struct{})}
	go func() {
		s.err = cmd.Wait()
		logf.Close()
		close(s.done)
	}()
	t.Cleanup(func() { s.stop(t) })
	return s
}

func (s *server) stop(t *testing.T) {
	select {
	case <-s.done:
		return
	default:
	}
	_ = syscall.Kill(s.cmd.Process.Pid, syscall.SIGTERM)
	select {
	case <-s.done:
		// As systemd stops it: a clean exit, not a crash in librados
		// (a connection shut down under a background probe).
		if s.err != nil {
			t.Errorf("%s %v: exit %v on SIGTERM; log:\n%s", s.cmd.Path, s.cmd.Args[1:3], s.err, s.logText())
		}
	case <-time.After(90 * time.Second):
		_ = syscall.Kill(s.cmd.Process.Pid, syscall.SIGKILL)
		<-s.done
		t.Errorf("%s did not stop within 90 s of SIGTERM", s.cmd.Path)
	}
}

func (s *server) logText() string {
	b, _ := os.ReadFile(s.log)
	return string(b)
}

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// health is what a probe reads: the status code and the JSON body.
type health struct {
	Code    int
	Status  string   `json:"status"`
	Reasons []string `json:"reasons"`
	keys    []string
}

var probeClient = &http.Client{Timeout: 10 * time.Second}

func probe(base, path string) (health, error) {
	resp, err := probeClient.Get(base + path)
	if err != nil {
		return health{}, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return health{}, err
	}
	h := health{Code: resp.StatusCode}
	if err := json.Unmarshal(b, &h); err != nil {
		return h, fmt.Errorf("%s%s: not JSON: %q", base, path, b)
	}
	var m map[string]any
	_ = json.Unmarshal(b, &m)
	for k := range m {
		h.keys = append(h.keys, k)
	}
	return h, nil
}

// waitHealth polls path until ok says yes, for up to a minute (a pause is
// noticed within the health interval plus timeout; the rest is slack for a
// loaded machine). It returns the last answer.
func waitHealth(t *testing.T, s *server, path, what string, ok func(health) bool) health {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for {
		h, err := probe(s.base, path)
		if err == nil && ok(h) {
			return h
		}
		select {
		case <-s.done:
			t.Fatalf("%s exited (%v) waiting for %s; log:\n%s", s.cmd.Path, s.err, what, s.logText())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s%s never %s: last %+v %v; log:\n%s", s.base, path, what, h, err, s.logText())
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func ready(h health) bool { return h.Code == http.StatusOK && h.Status == "ok" }

// notReadyFor says whether h is a 503 with a reason containing want.
func notReadyFor(want string) func(health) bool {
	return func(h health) bool {
		return h.Code == http.StatusServiceUnavailable && h.Status == "unavailable" &&
			strings.Contains(strings.Join(h.Reasons, "\n"), want)
	}
}

// call sends a JSON (or raw) request and decodes a JSON answer into out.
func call(t *testing.T, method, url string, body any, want int, out any) {
	t.Helper()
	var rd io.Reader
	ctype := "application/json"
	switch b := body.(type) {
	case nil:
	case []byte:
		rd, ctype = bytes.NewReader(b), "application/octet-stream"
	default:
		j, _ := json.Marshal(b)
		rd = bytes.NewReader(j)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, method, url, rd)
	req.Header.Set("Content-Type", ctype)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if resp.StatusCode != want {
		t.Fatalf("%s %s: %d %s, want %d", method, url, resp.StatusCode, b, want)
	}
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			t.Fatalf("%s %s: %v: %q", method, url, err, b)
		}
	}
}

func ioCopy(w io.Writer, resp *http.Response) (int64, error) {
	defer resp.Body.Close()
	return io.Copy(w, io.LimitReader(resp.Body, 8<<20))
}
