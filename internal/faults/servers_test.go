//go:build faults

package faults

import (
	"bufio"
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/cowdisk/cowdisk/internal/bench/procs"
)

// server is one cowdisk server run as a child process on a fixed address,
// so a restart comes back where clients expect it.
type server struct {
	name, addr string
	args       []string
	dir        string // logs: <name>-<n>.log, one per start
	starts     int
	p          *procs.Proc
}

func newServer(t testing.TB, name, dir string, args ...string) *server {
	t.Helper()
	addr, err := procs.FreeAddr()
	if err != nil {
		t.Fatal(err)
	}
	s := &server{name: name, addr: addr, dir: dir, args: append([]string{"--listen", addr}, args...)}
	// On failure the last lines of every log say what the server saw.
	t.Cleanup(func() {
		s.stop(t)
		if t.Failed() {
			for i := 1; i <= s.starts; i++ {
				log := s.logPath(i)
				t.Logf("--- %s (last lines):\n%s", log, procs.Tail(log, 25))
			}
		}
	})
	return s
}

func (s *server) url() string { return "http://" + s.addr }

func (s *server) logPath(n int) string {
	return filepath.Join(s.dir, fmt.Sprintf("%s-%d.log", s.name, n))
}

// start runs the server and waits until /healthz answers 200.
func (s *server) start(t testing.TB) {
	t.Helper()
	p := s.launch(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if err := p.WaitHTTP(ctx, s.url()+"/healthz"); err != nil {
		t.Fatal(err)
	}
}

// launch runs the server without waiting for it (each start logs to a
// file of its own).
func (s *server) launch(t testing.TB) *procs.Proc {
	t.Helper()
	s.starts++
	p, err := procs.Start(s.name, suite.bin, s.args, serverEnv(), s.logPath(s.starts))
	if err != nil {
		t.Fatal(err)
	}
	s.p = p
	return p
}

// kill is a crash: SIGKILL by pid, no chance to clean up.
func (s *server) kill(t testing.TB) {
	t.Helper()
	if err := syscall.Kill(s.p.PID(), syscall.SIGKILL); err != nil {
		t.Fatalf("kill %s (pid %d): %v", s.name, s.p.PID(), err)
	}
	_ = s.p.Stop(10 * time.Second) // reaps it
	s.p = nil
}

// stop is a graceful stop (SIGTERM); harmless when not running.
func (s *server) stop(t testing.TB) {
	t.Helper()
	if s.p == nil {
		return
	}
	if err := s.p.Stop(90 * time.Second); err != nil {
		t.Errorf("stop %s: %v", s.name, err)
	}
	s.p = nil
}

func (s *server) pid() int { return s.p.PID() }

// alive reports whether the process still runs (procs reaps it on exit).
func (s *server) alive() bool { return s.p != nil && syscall.Kill(s.p.PID(), 0) == nil }

// logContains reports whether the current run's log has substr.
func (s *server) logContains(substr string) bool {
	b, _ := os.ReadFile(s.logPath(s.starts))
	return strings.Contains(string(b), substr)
}

// goroutines scrapes go_goroutines from the server's /metrics.
func (s *server) goroutines(t testing.TB) int {
	t.Helper()
	resp, err := http.Get(s.url() + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "go_goroutines "); ok {
			n, err := strconv.ParseFloat(v, 64)
			if err != nil {
				t.Fatalf("go_goroutines %q: %v", v, err)
			}
			return int(n)
		}
	}
	t.Fatalf("%s /metrics has no go_goroutines", s.name)
	return 0
}

// fds counts the server's open file descriptors.
func (s *server) fds(t testing.TB) int {
	t.Helper()
	ents, err := os.ReadDir(fmt.Sprintf("/proc/%d/fd", s.pid()))
	if err != nil {
		t.Fatal(err)
	}
	return len(ents)
}
