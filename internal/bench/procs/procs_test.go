package procs

import (
	"bufio"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestParseStatus(t *testing.T) {
	status := "Name:\tcowdisk\nVmPeak:\t  900 kB\nVmHWM:\t   51200 kB\nVmRSS:\t   40000 kB\n"
	tests := []struct {
		field string
		want  uint64
		ok    bool
	}{{"VmHWM", 50 << 20, true}, {"VmRSS", 40000 << 10, true}, {"VmSwap", 0, false}}
	for _, tt := range tests {
		got, err := parseStatusKB(bufio.NewScanner(strings.NewReader(status)), tt.field)
		if (err == nil) != tt.ok || got != tt.want {
			t.Errorf("%s = %d, %v; want %d", tt.field, got, err, tt.want)
		}
	}
}

func TestPeakRSSOfSelfAndReset(t *testing.T) {
	pid := os.Getpid()
	hwm, err := PeakRSS(pid)
	if err != nil || hwm == 0 {
		t.Fatalf("PeakRSS = %d, %v", hwm, err)
	}
	if err := ResetPeakRSS(pid); err != nil {
		t.Skipf("clear_refs not writable here: %v", err)
	}
	if after, _ := PeakRSS(pid); after == 0 {
		t.Fatal("VmHWM vanished after reset")
	}
}

func TestStartWaitStop(t *testing.T) {
	dir := t.TempDir()
	// A shell that serves nothing: WaitHTTP must notice the exit quickly.
	p, err := Start("quitter", "/bin/sh", []string{"-c", "echo bye; exit 3"}, nil, filepath.Join(dir, "log"))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	err = p.WaitHTTP(ctx, "http://127.0.0.1:1/healthz")
	if err == nil || !strings.Contains(err.Error(), "exited") || !strings.Contains(err.Error(), "bye") {
		t.Fatalf("WaitHTTP = %v, want an exit error with the log tail", err)
	}

	s, err := Start("sleeper", "/bin/sleep", []string{"30"}, nil, filepath.Join(dir, "log2"))
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Stop(5 * time.Second); err != nil {
		t.Fatalf("Stop after SIGTERM: %v", err)
	}
	if err := s.Stop(time.Second); err != nil {
		t.Fatalf("second Stop: %v", err)
	}
}

func TestFreeAddr(t *testing.T) {
	a, err := FreeAddr()
	if err != nil || !strings.HasPrefix(a, "127.0.0.1:") {
		t.Fatalf("FreeAddr = %q, %v", a, err)
	}
}

func TestParseStatCPU(t *testing.T) {
	tests := []struct {
		stat string
		want float64
		ok   bool
	}{
		{"1234 (cowdisk) S 1 1234 1234 0 -1 4194560 100 0 0 0 250 50 0 0 20 0 12 0", 3, true},
		{"1234 (a) b) c) R 1 1 1 0 -1 0 0 0 0 0 7 3 0 0", 0.1, true},
		{"1234 cowdisk S 1", 0, false},
		{"1234 (x) S 1 2", 0, false},
	}
	for _, tt := range tests {
		got, err := parseStatCPU(tt.stat)
		if (err == nil) != tt.ok || got != tt.want {
			t.Errorf("parseStatCPU(%q) = %v, %v; want %v", tt.stat, got, err, tt.want)
		}
	}
	if s, err := CPUSeconds(os.Getpid()); err != nil || s < 0 {
		t.Errorf("CPUSeconds(self) = %v, %v", s, err)
	}
}

// TestClientCPUCountsWaitedChildren: a tool the bench ran and waited for
// adds its CPU time (the baselines' work is measured this way).
func TestClientCPUCountsWaitedChildren(t *testing.T) {
	before, err := ClientCPUSeconds()
	if err != nil {
		t.Fatal(err)
	}
	// A busy child: sh counting, no sleeping, so it burns CPU for sure.
	if out, err := exec.Command("/bin/sh", "-c", "i=0; while [ $i -lt 300000 ]; do i=$((i+1)); done").CombinedOutput(); err != nil {
		t.Fatalf("busy child: %v %s", err, out)
	}
	after, err := ClientCPUSeconds()
	if err != nil {
		t.Fatal(err)
	}
	// The child burns a good part of a second; the test process itself
	// only forks and waits (milliseconds), so most of the rise is the child's.
	if after-before < 0.05 {
		t.Fatalf("client CPU rose by %.3f s over a busy child (%.3f -> %.3f)", after-before, before, after)
	}
}
