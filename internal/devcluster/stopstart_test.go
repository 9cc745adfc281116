package devcluster

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/cowdisk/cowdisk/internal/testmode"
)

// Friction 10 of issue 13: down removed the directory, so a bluestore
// cluster could not be stopped and started with its data.
func TestStopStartKeepsData(t *testing.T) {
	testmode.Needs(t, "a Ceph dev cluster of its own")
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	dir := filepath.Join(t.TempDir(), "c")
	c, err := Up(ctx, Options{Dir: dir, ObjectStore: "bluestore", Pools: []string{"p1"}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = Down(context.Background(), dir) })
	src := filepath.Join(t.TempDir(), "obj")
	if err := os.WriteFile(src, []byte("kept across stop and start"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := run(ctx, "rados", "-c", c.ConfPath, "-p", "p1", "put", "o1", src); err != nil {
		t.Fatal(err)
	}
	if err := Stop(ctx, dir); err != nil {
		t.Fatal(err)
	}
	if c.monAlive() || c.osdAlive() {
		t.Fatal("daemons alive after stop")
	}
	if _, err := os.Stat(filepath.Join(dir, "cluster.json")); err != nil {
		t.Fatalf("stop removed the cluster: %v", err)
	}
	if _, err := Start(ctx, dir); err != nil {
		t.Fatal(err)
	}
	dst := filepath.Join(t.TempDir(), "back")
	// run strips the caller's CEPH_* environment, which names another cluster.
	if out, err := run(ctx, "rados", "-c", c.ConfPath, "-p", "p1", "get", "o1", dst); err != nil {
		t.Fatalf("rados get after start: %v: %s", err, out)
	}
	if b, _ := os.ReadFile(dst); string(b) != "kept across stop and start" {
		t.Fatalf("object after start = %q", b)
	}
}

// A memstore OSD keeps nothing across a stop, so start refuses it before
// touching any daemon.
func TestStartRefusesMemstore(t *testing.T) {
	dir := t.TempDir()
	c := &Cluster{Dir: dir, ObjectStore: "memstore", ConfPath: filepath.Join(dir, "ceph.conf")}
	if err := c.save(); err != nil {
		t.Fatal(err)
	}
	if _, err := Start(context.Background(), dir); !errors.Is(err, ErrMemstore) {
		t.Fatalf("start memstore: %v; want ErrMemstore", err)
	}
	if _, err := Start(context.Background(), filepath.Join(dir, "none")); err == nil {
		t.Fatal("start of a missing cluster succeeded")
	}
}
