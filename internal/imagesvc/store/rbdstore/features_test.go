package rbdstore

import (
	"bytes"
	"context"
	"os/exec"
	"testing"

	"github.com/cowdisk/cowdisk/internal/ceph"
	"github.com/cowdisk/cowdisk/internal/imagesvc/store/storetest"
	"github.com/cowdisk/cowdisk/internal/testcluster"
)

// TestFeatures: new images get the cluster's rbd_default_features unless
// the configuration names others, layering is always there, the thin
// parallel writes leave a valid object map, and disks cloned from the
// snapshot read back the image.
func TestFeatures(t *testing.T) {
	c := testcluster.Connect(t)
	def, err := c.DefaultFeatures()
	if err != nil {
		t.Fatal(err)
	}
	const excl = 4
	for _, tc := range []struct {
		name       string
		asked, get uint64
	}{
		{"cluster default", 0, def | ceph.FeatureLayering},
		{"layering only", ceph.FeatureLayering, ceph.FeatureLayering},
		{"layering added", excl, excl | ceph.FeatureLayering},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx, c, s, vms := setup(t, Config{ChunkSize: 1 << 20, ProtectSnapshot: true, Features: tc.asked})
			if s.Features() != tc.get {
				t.Fatalf("store features %s, want %s", ceph.FeatureString(s.Features()), ceph.FeatureString(tc.get))
			}
			const id = "6a1f0c55-3f7e-4c55-9c55-0000000000f0"
			data := storetest.Data(6<<20+4096, 7)
			res, err := s.Put(ctx, id, bytes.NewReader(data), -1) // unknown size: grown, then trimmed
			if err != nil {
				t.Fatal(err)
			}
			defer func() {
				if err := s.Delete(context.Background(), res.Location); err != nil {
					t.Error(err)
				}
				testcluster.AssertPoolClean(t, c, s.cfg.Pool)
			}()
			info, err := c.Stat(ctx, s.cfg.Pool, id)
			if err != nil || info.Features != tc.get {
				t.Fatalf("image features %s (%v), want %s", ceph.FeatureString(info.Features), err, ceph.FeatureString(tc.get))
			}
			checkObjectMap(t, c, s.cfg.Pool+"/"+id, tc.get)
			disk := "9b2c4f00-0000-4000-8000-0000000000f0_disk"
			parent := ceph.SnapRef{Pool: s.cfg.Pool, Image: id, Snap: SnapName}
			if err := c.Clone(ctx, parent, vms, disk, ceph.ImageOptions{Features: def}); err != nil {
				t.Fatal(err)
			}
			defer func() {
				if err := c.Remove(context.Background(), vms, disk, ceph.RemoveOptions{Retries: -1}); err != nil {
					t.Error(err)
				}
			}()
			r, err := c.OpenReader(ctx, vms, disk, "")
			if err != nil {
				t.Fatal(err)
			}
			defer r.Close()
			got := make([]byte, len(data))
			if _, err := r.ReadAt(got, 0); err != nil || !bytes.Equal(got, data) {
				t.Fatalf("disk cloned from the image reads back differently (%v)", err)
			}
		})
	}
}

// checkObjectMap runs `rbd object-map check`, which rebuilds the map from
// the objects and fails on a difference, when the image has an object map.
func checkObjectMap(t *testing.T, c *ceph.Cluster, spec string, features uint64) {
	t.Helper()
	if features&8 == 0 {
		return
	}
	cfg := c.Config()
	out, err := exec.Command("rbd", "--conf", cfg.ConfPath, "--id", cfg.User, "--keyring", cfg.Keyring,
		"object-map", "check", spec).CombinedOutput()
	if err != nil {
		t.Fatalf("rbd object-map check %s: %v: %s", spec, err, out)
	}
}
