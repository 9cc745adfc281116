package provisioner_test

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"github.com/cowdisk/cowdisk/internal/ceph"
	"github.com/cowdisk/cowdisk/internal/provisioner"
)

// openCounter counts, per call, the opens of images in one pool.
type openCounter struct {
	provisioner.Cluster
	pool string
	mu   sync.Mutex
	n    map[string]int
}

func (c *openCounter) count(call, pool string) {
	if pool != c.pool {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.n[call]++
}

func (c *openCounter) take() map[string]int {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := c.n
	c.n = map[string]int{}
	return n
}

func (c *openCounter) Exists(ctx context.Context, pool, name, snap string) (bool, error) {
	c.count("Exists", pool)
	return c.Cluster.Exists(ctx, pool, name, snap)
}

func (c *openCounter) Stat(ctx context.Context, pool, name string) (ceph.ImageInfo, error) {
	c.count("Stat", pool)
	return c.Cluster.Stat(ctx, pool, name)
}

func (c *openCounter) OpenReader(ctx context.Context, pool, name, snap string) (provisioner.ImageReader, error) {
	c.count("OpenReader", pool)
	return c.Cluster.OpenReader(ctx, pool, name, snap)
}

func (c *openCounter) CloneDepth(ctx context.Context, pool, name string) (int, error) {
	c.count("CloneDepth", pool)
	return c.Cluster.CloneDepth(ctx, pool, name)
}

// The first clone of an image opens its snapshot once (the existence
// check, the inspection and the stat share the open); the next clones open
// it not at all (the parent cache).
func TestCloneOpensParentOnce(t *testing.T) {
	e := newClusterEnv(t)
	svc := e.rbdService(t)
	id := svc.upload(t, "raw", make([]byte, 4*mib))
	c := &openCounter{Cluster: provisioner.Ceph(e.c), pool: e.imagesPool, n: map[string]int{}}
	b := e.backendOn(t, c, svc.source(), nil)
	ctx := context.Background()
	for i, want := range []map[string]int{{"OpenReader": 1}, {}} {
		d, err := b.Create(ctx, provisioner.Request{InstanceID: fmt.Sprintf("opens%d", i), ImageID: id})
		if err != nil || d.Method != provisioner.MethodClone {
			t.Fatalf("disk %d: %+v %v", i, d, err)
		}
		if got := c.take(); fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("disk %d opened the image pool's images %v, want %v", i, got, want)
		}
	}
}

func (c *openCounter) ListSnapshots(ctx context.Context, pool, image string) ([]string, error) {
	c.count("ListSnapshots", pool)
	return c.Cluster.ListSnapshots(ctx, pool, image)
}

// A warm disk (its image's base exists) opens the base not at all once
// the base's facts are cached; after the base is pruned, the next disk
// makes it again instead of failing on the cached facts.
func TestWarmCloneOpensBaseOnce(t *testing.T) {
	e := newClusterEnv(t)
	svc := fileService(t)
	id := svc.upload(t, "raw", make([]byte, 4*mib))
	c := &openCounter{Cluster: provisioner.Ceph(e.c), pool: e.vmsPool, n: map[string]int{}}
	b := e.backendOn(t, c, svc.source(), nil)
	ctx := context.Background()
	create := func(inst string) {
		t.Helper()
		d, err := b.Create(ctx, provisioner.Request{InstanceID: inst, ImageID: id})
		if err != nil || d.Method != provisioner.MethodBaseClone {
			t.Fatalf("disk of %s: %+v %v", inst, d, err)
		}
	}
	create("warm0") // cold: makes the base
	c.take()
	create("warm1")
	if got := c.take(); len(got) != 0 {
		t.Errorf("a warm disk opened the base: %v, want nothing", got)
	}
	for _, inst := range []string{"warm0", "warm1"} {
		if err := b.DeleteInstance(ctx, inst); err != nil {
			t.Fatal(err)
		}
	}
	if pruned, err := b.Prune(ctx); err != nil || len(pruned) != 1 {
		t.Fatalf("prune: %v %v, want the one base", pruned, err)
	}
	create("warm2") // the cached base is gone: made again
}
