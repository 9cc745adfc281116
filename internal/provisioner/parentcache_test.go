package provisioner

import (
	"context"
	"testing"
	"time"

	"github.com/cowdisk/cowdisk/internal/ceph"
)

// The cache serves facts only for the same snapshot and image data, and only
// within parentTTL; a dropped entry is looked up again.
func TestParentCache(t *testing.T) {
	now := time.Unix(1000, 0)
	c := parentCache{now: func() time.Time { return now }}
	ref := ceph.SnapRef{Pool: "images", Image: "i1", Snap: "snap"}
	img := Image{ID: "i1", Checksum: "aa", HashValue: "bb"}
	k := keyOf(ref, img)
	c.put(k, parentFacts{size: 42, depth: 1})

	tests := []struct {
		name string
		key  parentKey
		step time.Duration
		ok   bool
	}{
		{"same data", k, 0, true},
		{"other checksum", keyOf(ref, Image{ID: "i1", Checksum: "cc", HashValue: "bb"}), 0, false},
		{"other snapshot", keyOf(ceph.SnapRef{Pool: "images", Image: "i1", Snap: "s2"}, img), 0, false},
		{"at the ttl", k, parentTTL, true},
		{"past the ttl", k, time.Second, false},
	}
	for _, tt := range tests {
		now = now.Add(tt.step)
		if f, ok := c.get(tt.key); ok != tt.ok || (ok && f.size != 42) {
			t.Errorf("%s: get = %+v %v, want ok %v", tt.name, f, ok, tt.ok)
		}
	}
	if c.has(ref) {
		t.Error("has: an expired entry still counts")
	}
	c.put(k, parentFacts{size: 42, depth: 1})
	if !c.has(ref) {
		t.Error("has: a fresh entry does not count")
	}
	c.drop(k)
	if _, ok := c.get(k); ok || c.has(ref) {
		t.Error("a dropped entry is still served")
	}
}

// cachedOpener opens a snapshot only when the cache has no facts for it.
func TestCachedOpener(t *testing.T) {
	var c parentCache
	ref := ceph.SnapRef{Pool: "images", Image: "i1", Snap: "snap"}
	inner := &countingOpener{}
	o := cachedOpener{inner, &c}
	ctx := context.Background()
	if ok, _ := o.Exists(ctx, ref.Pool, ref.Image, ref.Snap); ok || inner.n != 1 {
		t.Fatalf("uncached: exists %v after %d opens, want false after 1", ok, inner.n)
	}
	c.put(keyOf(ref, Image{ID: "i1"}), parentFacts{size: 1, depth: 1})
	if ok, _ := o.Exists(ctx, ref.Pool, ref.Image, ref.Snap); !ok || inner.n != 1 {
		t.Fatalf("cached: exists %v after %d opens, want true after 1", ok, inner.n)
	}
}

type countingOpener struct{ n int }

func (*countingOpener) FSID() string { return "fsid" }
func (o *countingOpener) Exists(context.Context, string, string, string) (bool, error) {
	o.n++
	return false, nil
}
