package servecmd

import (
	"context"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/spf13/pflag"

	"github.com/cowdisk/cowdisk/internal/ceph"
	"github.com/cowdisk/cowdisk/internal/provisioner"
)

func TestCephTimeoutFlags(t *testing.T) {
	f := NodeCommand().Flags()
	if err := f.Parse([]string{"--ceph-osd-timeout", "4s"}); err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string]string{"ceph-mount-timeout": "10s", "ceph-mon-timeout": "10s", "ceph-osd-timeout": "4s"} {
		if got := f.Lookup(name).Value.String(); got != want {
			t.Errorf("serve node --%s = %s, want %s", name, got, want)
		}
	}
	var ct cephTimeouts
	fs := pflag.NewFlagSet("x", pflag.ContinueOnError)
	ct.register(fs)
	if err := fs.Parse([]string{"--ceph-mount-timeout", "2s"}); err != nil {
		t.Fatal(err)
	}
	var cfg ceph.Config
	ct.apply(&cfg)
	if cfg.MountTimeout != 2*time.Second || cfg.MonOpTimeout != 10*time.Second || cfg.OSDOpTimeout != 30*time.Second {
		t.Errorf("config %+v", cfg)
	}
}

// TestNodeStartsWithoutMonitor: with no monitor to reach, `serve node`
// listens and answers 503 saying why, instead of exiting after the mount
// timeout, and stops cleanly while it still tries to connect.
func TestNodeStartsWithoutMonitor(t *testing.T) {
	dir := t.TempDir()
	conf := filepath.Join(dir, "ceph.conf")
	// Port 1 on loopback: nothing listens, every connect attempt fails.
	if err := os.WriteFile(conf, []byte("[global]\nmon_host = 127.0.0.1:1\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	o := nodeOptions{listen: addr, backend: "rbd", imageURL: "http://127.0.0.1:1", ceph: cephConn{conf: conf, timeouts: cephTimeouts{mount: time.Second}},
		rbd: provisioner.RBDConfig{ImagesPool: "images", VMsPool: "vms", Node: "test"}}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- runNode(ctx, o) }()
	deadline := time.Now().Add(5 * time.Second)
	for _, path := range []string{"/v1/disks?instance_id=x", "/healthz"} {
		for {
			resp, err := http.Get("http://" + addr + path)
			if err == nil {
				b, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				if resp.StatusCode != http.StatusServiceUnavailable || !strings.Contains(string(b), "Ceph") {
					t.Errorf("%s: %d %s, want 503 naming Ceph", path, resp.StatusCode, b)
				}
				break
			}
			select {
			case err := <-done:
				t.Fatalf("serve node exited without a monitor: %v", err)
			default:
			}
			if time.Now().After(deadline) {
				t.Fatalf("serve node did not listen within 5 s: %v", err)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("shutdown: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("serve node did not stop within 10 s of its context ending")
	}
}
