package provisioner

import (
	"context"
	"crypto/sha512"
	"encoding/hex"
	"errors"
	"testing"
	"time"

	"github.com/cowdisk/cowdisk/internal/ceph"
	"github.com/cowdisk/cowdisk/internal/errs"
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
	c.put(k, parentFacts{size: 42, depth: 1})
	c.drop(k)
	if _, ok := c.get(k); ok {
		t.Error("a dropped entry is still served")
	}
}

// The clone path inspects an image's snapshot on its first clone only;
// a refused inspection is not remembered, and other image data under the
// same snapshot name is inspected afresh.
func TestCloneReusesCheckedParent(t *testing.T) {
	f := newRBDFixture(t, nil)
	const id = "11111111-1111-4111-8111-111111111111"
	f.cloneable(id, 8*mib)
	inspected, refuse := 0, true
	f.b.probe = probeWith(f.b, func(context.Context, ceph.SnapRef, Image) error {
		inspected++
		if refuse {
			return errs.ErrRefused
		}
		return nil
	})
	ctx := context.Background()
	create := func(inst string) error {
		_, err := f.b.Create(ctx, Request{InstanceID: inst, ImageID: id})
		return err
	}
	if err := create("i0"); !errors.Is(err, errs.ErrRefused) {
		t.Fatalf("refused source: %v", err)
	}
	refuse = false
	for _, inst := range []string{"i1", "i2", "i3"} {
		if err := create(inst); err != nil {
			t.Fatal(err)
		}
	}
	if inspected != 2 {
		t.Fatalf("%d inspections for a refusal and three clones, want 2 (the refusal is not cached)", inspected)
	}
	f.images.add(Image{ID: id, DiskFormat: "raw", Size: 8 * mib, Checksum: "0123456789abcdef0123456789abcdef", Locations: []string{"rbd://fsid-1/images/" + id + "/snap"}}, nil)
	if err := create("i4"); err != nil || inspected != 3 {
		t.Fatalf("other image data: %v after %d inspections, want a third", err, inspected)
	}
}

// A snapshot removed after its facts were cached fails the clone once,
// inside Create: the decision is made again without the cache and the
// fallback makes the disk.
func TestStaleCachedParentFallsBack(t *testing.T) {
	f := newRBDFixture(t, nil)
	const id = "11111111-1111-4111-8111-111111111111"
	data := make([]byte, 2*mib)
	sum := sha512.Sum512(data)
	img := Image{ID: id, DiskFormat: "raw", Size: int64(len(data)), HashAlgo: "sha512", HashValue: hex.EncodeToString(sum[:]),
		Locations: []string{"rbd://fsid-1/images/" + id + "/snap"}}
	f.c.put("images", id, uint64(len(data)), "snap")
	f.images.add(img, data)
	ctx := context.Background()
	if d, err := f.b.Create(ctx, Request{InstanceID: "i1", ImageID: id}); err != nil || d.Method != MethodClone {
		t.Fatalf("first disk: %+v %v", d, err)
	}
	f.c.put("images", id, uint64(len(data))) // the snapshot is gone
	d, err := f.b.Create(ctx, Request{InstanceID: "i2", ImageID: id})
	if err != nil || d.Method != MethodBaseClone {
		t.Fatalf("after the snapshot went: %+v %v, want a base clone", d, err)
	}
}
