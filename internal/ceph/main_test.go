package ceph_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"io"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cowdisk/cowdisk/internal/ceph"
	"github.com/cowdisk/cowdisk/internal/testcluster"
)

func TestMain(m *testing.M) { testcluster.MainNoLeaks(m) }

const mib = 1 << 20

var pools struct {
	once        sync.Once
	images, vms string
}

// setup connects and returns this package's two pools. Tests here do not
// run in parallel with each other; they use distinct image names anyway.
func setup(t *testing.T) (context.Context, *ceph.Cluster, string, string) {
	t.Helper()
	c := testcluster.Connect(t)
	pools.once.Do(func() { pools.images, pools.vms = testcluster.Pools(t, "cephpkg") })
	if pools.images == "" {
		t.Fatal("pools were not created (see the first test's failure)")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	return ctx, c, pools.images, pools.vms
}

// imageName makes a per-test image name that is valid in RBD.
func imageName(t *testing.T, suffix string) string {
	return strings.NewReplacer("/", "-", " ", "-").Replace(t.Name()) + suffix
}

// removeAtEnd removes pool/name when the test ends, clones first (cleanups
// run last-registered first).
func removeAtEnd(t *testing.T, c *ceph.Cluster, pool, name string) {
	t.Cleanup(func() {
		if err := c.Remove(context.Background(), pool, name, ceph.RemoveOptions{Retries: -1}); err != nil {
			t.Errorf("cleanup: %v", err)
		}
	})
}

// newImage creates an empty pool/name of size bytes, removed at the end.
func newImage(t *testing.T, ctx context.Context, c *ceph.Cluster, pool, name string, size uint64) {
	t.Helper()
	if err := c.CreateImage(ctx, pool, name, size, ceph.ImageOptions{}); err != nil {
		t.Fatal(err)
	}
	removeAtEnd(t, c, pool, name)
}

// randomData returns n random bytes.
func randomData(t testing.TB, n int) []byte {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return b
}

// readAll reads pool/name@snap completely.
func readAll(t *testing.T, ctx context.Context, c *ceph.Cluster, pool, name, snap string) []byte {
	t.Helper()
	r, err := c.OpenReader(ctx, pool, name, snap)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	got, err := io.ReadAll(r)
	if err != nil {
		t.Fatalf("read %s/%s@%s: %v", pool, name, snap, err)
	}
	if int64(len(got)) != r.Size() {
		t.Fatalf("read %d bytes of %d", len(got), r.Size())
	}
	return got
}

// importBytes imports data as pool/name and schedules its removal.
func importBytes(t *testing.T, ctx context.Context, c *ceph.Cluster, pool, name string, data []byte) ceph.ImportResult {
	t.Helper()
	res, err := c.Import(ctx, bytes.NewReader(data), int64(len(data)), pool, name, ceph.ImportOptions{})
	if err != nil {
		t.Fatalf("import %s/%s: %v", pool, name, err)
	}
	removeAtEnd(t, c, pool, name)
	return res
}
