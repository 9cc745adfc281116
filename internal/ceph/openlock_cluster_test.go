package ceph_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/ceph/go-ceph/rbd"

	"github.com/cowdisk/cowdisk/internal/ceph"
	"github.com/cowdisk/cowdisk/internal/errs"
)

// parallelOps is how many goroutines clone and open at once in the open
// lock tests: the 32 boots at once of issue 12.
const parallelOps = 32

// Many clones and opens at once of layering-only images run without the
// open lock (none of them is serialized) and nothing fails or crashes:
// the crash the lock prevents needs exclusive-lock/object-map.
func TestConcurrentClonesOfLayeringImagesUnserialized(t *testing.T) {
	ctx, c, images, vms := setup(t)
	parent := snappedParent(t, ctx, c, images, ceph.ImageOptions{Features: rbd.FeatureLayering})
	if _, err := c.Stat(ctx, parent.Pool, parent.Image); err != nil { // tells the gate its features
		t.Fatal(err)
	}
	before := ceph.SerializedOpens()
	storm(t, ctx, c, parent, vms, 3)
	if n := ceph.SerializedOpens() - before; n != 0 {
		t.Errorf("%d opens or clones of layering-only images took the open lock, want none", n)
	}
}

// Images with exclusive-lock and object-map keep the lock: every clone and
// open of them is serialized, and the storm still succeeds.
func TestConcurrentClonesOfRiskyImagesSerialized(t *testing.T) {
	ctx, c, images, vms := setup(t)
	risky := ceph.ImageOptions{Features: rbd.FeatureLayering | rbd.FeatureExclusiveLock | rbd.FeatureObjectMap}
	parent := snappedParent(t, ctx, c, images, risky)
	if _, err := c.Stat(ctx, parent.Pool, parent.Image); err != nil {
		t.Fatal(err)
	}
	before := ceph.SerializedOpens()
	storm(t, ctx, c, parent, vms, 1)
	// Per child: the clone and the reader's open of the parent at least.
	if n := ceph.SerializedOpens() - before; n < 2*parallelOps {
		t.Errorf("%d serialized opens and clones of an exclusive-lock parent, want at least %d", n, 2*parallelOps)
	}
}

func snappedParent(t *testing.T, ctx context.Context, c *ceph.Cluster, pool string, o ceph.ImageOptions) ceph.SnapRef {
	t.Helper()
	name := imageName(t, "")
	if err := c.CreateImage(ctx, pool, name, 8*mib, o); err != nil {
		t.Fatal(err)
	}
	removeAtEnd(t, c, pool, name)
	if err := c.CreateSnapshot(ctx, pool, name, "snap"); err != nil {
		t.Fatal(err)
	}
	return ceph.SnapRef{Pool: pool, Image: name, Snap: "snap"}
}

// storm runs parallelOps goroutines, each rounds times: clone parent,
// stat and tag the child, read the parent's snapshot, remove the child.
func storm(t *testing.T, ctx context.Context, c *ceph.Cluster, parent ceph.SnapRef, pool string, rounds int) {
	t.Helper()
	var wg sync.WaitGroup
	errc := make(chan error, parallelOps)
	for i := range parallelOps {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for r := range rounds {
				if err := cloneAndOpen(ctx, c, parent, pool, fmt.Sprintf("%s-c%d-%d", parent.Image, i, r)); err != nil {
					errc <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errc)
	for err := range errc {
		t.Error(err)
	}
}

func cloneAndOpen(ctx context.Context, c *ceph.Cluster, parent ceph.SnapRef, pool, name string) (err error) {
	if err := c.Clone(ctx, parent, pool, name, ceph.ImageOptions{}); err != nil {
		return err
	}
	defer func() {
		err = errors.Join(err, c.Remove(context.WithoutCancel(ctx), pool, name, ceph.RemoveOptions{Retries: -1}))
	}()
	if info, err := c.Stat(ctx, pool, name); err != nil || info.Parent == nil || *info.Parent != parent {
		return fmt.Errorf("child %s: %+v %v", name, info, err)
	}
	if err := c.SetMetadata(ctx, pool, name, map[string]string{"k": name}); err != nil {
		return err
	}
	r, err := c.OpenReader(ctx, parent.Pool, parent.Image, parent.Snap)
	if err != nil {
		return err
	}
	buf := make([]byte, 4096)
	_, err = r.ReadAt(buf, 0)
	return errors.Join(err, r.Close())
}

// An image that does not exist is answered without librbd and without the
// open lock (the repeat check of every create opens such a name), as not
// found, the same as librbd says it.
func TestOpenOfMissingImageUnserialized(t *testing.T) {
	ctx, c, _, vms := setup(t)
	name := imageName(t, "")
	before := ceph.SerializedOpens()
	if ok, err := c.Exists(ctx, vms, name, ""); ok || err != nil {
		t.Fatalf("Exists of a missing image: %v %v", ok, err)
	}
	if _, err := c.Stat(ctx, vms, name); !errors.Is(err, errs.ErrNotFound) || !strings.Contains(err.Error(), vms+"/"+name) {
		t.Fatalf("Stat of a missing image: %v, want not found naming it", err)
	}
	newImage(t, ctx, c, vms, name, mib) // made here with layering: known, opened freely
	if _, err := c.Stat(ctx, vms, name); err != nil {
		t.Fatalf("Stat once it exists: %v", err)
	}
	if n := ceph.SerializedOpens() - before; n != 0 {
		t.Errorf("%d opens took the open lock, want none", n)
	}
}
