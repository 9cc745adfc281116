package ceph_test

import (
	"context"
	"errors"
	"path/filepath"
	"sync/atomic"
	"testing"

	"go.uber.org/goleak"

	"github.com/cowdisk/cowdisk/internal/ceph"
	"github.com/cowdisk/cowdisk/internal/errs"
	"github.com/cowdisk/cowdisk/internal/testcluster"
)

// Close waits for the handle's background cleanups: none outlives it.
func TestCloseDrainsBackground(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	cfg := testcluster.Config(t)
	cfg.ConfPath = filepath.Dir(cfg.ConfPath) + "/././" + filepath.Base(cfg.ConfPath) // a connection of its own
	c, err := ceph.Connect(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	release := make(chan struct{})
	var finished atomic.Bool
	c.Background(func() {
		<-release
		finished.Store(true)
	})
	closed := make(chan struct{})
	go func() {
		c.Close()
		close(closed)
	}()
	close(release)
	<-closed
	if !finished.Load() {
		t.Fatal("Close returned before the background cleanup ended")
	}
}

// Discard after an ordinary failure removes the image before it returns.
func TestDiscardRemovesNow(t *testing.T) {
	ctx, c, _, pool := setup(t)
	if err := c.CreateImage(ctx, pool, "discard-me.tmp-n1-00", 1<<20, ceph.ImageOptions{}); err != nil {
		t.Fatal(err)
	}
	c.Discard(ctx, pool, "discard-me.tmp-n1-00", errors.New("a step failed"))
	if ok, err := c.Exists(ctx, pool, "discard-me.tmp-n1-00", ""); err != nil || ok {
		t.Fatalf("after Discard: exists %v, %v", ok, err)
	}
	c.Discard(ctx, pool, "never-made", errs.ErrInvalid) // nothing to remove: no panic, no error out
	testcluster.AssertPoolClean(t, c, pool)
}
