package ceph_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/cowdisk/cowdisk/internal/ceph"
	"github.com/cowdisk/cowdisk/internal/errs"
	"github.com/cowdisk/cowdisk/internal/testcluster"
)

// TestConnectUnreachable: a monitor that never answers must give up within
// the mount timeout instead of hanging the caller.
func TestConnectUnreachable(t *testing.T) {
	cfg := testcluster.Config(t)
	cfg.ConfPath, cfg.MountTimeout = deadMonConf(t), 2*time.Second
	start := time.Now()
	c, err := ceph.Connect(context.Background(), cfg)
	if err == nil {
		c.Close()
		t.Fatal("Connect to a dead monitor succeeded")
	}
	if took := time.Since(start); took > 10*time.Second {
		t.Fatalf("Connect took %v with a 2s mount timeout", took)
	}
	if !errors.Is(err, errs.ErrTimeout) {
		t.Fatalf("Connect = %v, want ErrTimeout", err)
	}
}

// TestConnectStopsWaiting: the caller's deadline ends the wait even while
// librados is still trying to reach the monitor.
func TestConnectStopsWaiting(t *testing.T) {
	cfg := testcluster.Config(t)
	cfg.ConfPath = deadMonConf(t)
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	start := time.Now()
	if _, err := ceph.Connect(ctx, cfg); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Connect = %v, want DeadlineExceeded", err)
	}
	if took := time.Since(start); took > time.Second {
		t.Fatalf("Connect returned after %v, long after its 200ms deadline", took)
	}
}

func TestConnectCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := ceph.Connect(ctx, testcluster.Config(t)); !errors.Is(err, context.Canceled) {
		t.Fatalf("Connect = %v, want context.Canceled", err)
	}
}

// deadMonConf writes a ceph.conf whose monitor is 127.0.0.1:9, where
// nothing listens.
func deadMonConf(t *testing.T) string {
	conf := filepath.Join(t.TempDir(), "ceph.conf")
	if err := os.WriteFile(conf, []byte("[global]\nmon host = v1:127.0.0.1:9\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	return conf
}

// An unreferenced connection lingers, so librbd work still running in its
// own threads is never shut down under it, and a Connect soon after a
// Close reuses it; once the linger time has passed it is shut down.
func TestConnectionLingers(t *testing.T) {
	cfg := testcluster.Config(t)
	cfg.User = "admin"
	cfg.ConfPath = filepath.Dir(cfg.ConfPath) + "/./" + filepath.Base(cfg.ConfPath) // a registry key of its own
	ctx := context.Background()
	a, err := ceph.Connect(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	a.Close()
	b, err := ceph.Connect(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if !ceph.SameConn(a, b) {
		t.Error("a Connect right after the last Close dialed again")
	}
	defer ceph.SetLinger(10 * time.Millisecond)()
	b.Close()
	deadline := time.Now().Add(time.Minute)
	for ceph.Registered(cfg) {
		if time.Now().After(deadline) {
			t.Fatal("the idle connection was never shut down")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestNoImageCache: the setting reaches librados, and only the connection
// that asked for it (the default one keeps librbd's cache).
func TestNoImageCache(t *testing.T) {
	for _, tc := range []struct {
		off  bool
		want string
	}{{true, "false"}, {false, "true"}} {
		cfg := testcluster.Config(t)
		cfg.NoImageCache = tc.off
		c, err := ceph.Connect(context.Background(), cfg)
		if err != nil {
			t.Fatal(err)
		}
		got, err := c.ConfigOption("rbd_cache")
		c.Close()
		if err != nil || got != tc.want {
			t.Errorf("NoImageCache %t: rbd_cache = %q (%v), want %q", tc.off, got, err, tc.want)
		}
	}
}
