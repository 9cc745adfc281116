package procs

import (
	"bufio"
	"context"
	"os"
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
