package rbdstore

import (
	"bytes"
	"context"
	"errors"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/cowdisk/cowdisk/internal/ceph"
	"github.com/cowdisk/cowdisk/internal/errs"
	"github.com/cowdisk/cowdisk/internal/imagesvc/store"
	"github.com/cowdisk/cowdisk/internal/imagesvc/store/storetest"
	"github.com/cowdisk/cowdisk/internal/rbdloc"
	"github.com/cowdisk/cowdisk/internal/testcluster"
)

func TestMain(m *testing.M) { testcluster.Main(m) }

var pools struct {
	once        sync.Once
	images, vms string
}

func setup(t *testing.T, cfg Config) (context.Context, *ceph.Cluster, *Store, string) {
	t.Helper()
	c := testcluster.Connect(t)
	pools.once.Do(func() { pools.images, pools.vms = testcluster.Pools(t, "imagesvc") })
	if pools.images == "" {
		t.Fatal("pools were not created (see the first test's failure)")
	}
	cfg.Pool = pools.images
	s, err := New(c, cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	return ctx, c, s, pools.vms
}

// leftovers lists images and trash entries in the store's pool.
func leftovers(c *ceph.Cluster, pool string) func(t *testing.T) []string {
	return func(t *testing.T) []string {
		names, err := c.ListImages(context.Background(), pool)
		if err != nil {
			t.Fatal(err)
		}
		trash, err := c.ListTrash(context.Background(), pool)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range trash {
			names = append(names, "trash:"+e.Name)
		}
		return names
	}
}

func TestSuite(t *testing.T) {
	_, c, s, _ := setup(t, Config{ChunkSize: 1 << 20, ProtectSnapshot: true})
	storetest.Run(t, storetest.Harness{Store: s, Size: 5<<20 + 123, Leftovers: leftovers(c, s.cfg.Pool)})
}

// TestLayout checks the image as Glance's RBD store lays it out, and that
// writes are thin.
func TestLayout(t *testing.T) {
	ctx, c, s, _ := setup(t, Config{ProtectSnapshot: true}) // default 8 MiB chunks
	const id = "6a1f0c55-3f7e-4c55-9c55-000000000001"
	data := make([]byte, 64<<20) // 8 objects, only the first and the last partly written
	copy(data, bytes.Repeat([]byte("cowdisk"), 1<<17))
	copy(data[60<<20:], []byte("tail"))
	res, err := s.Put(ctx, id, bytes.NewReader(data), -1)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Delete(context.Background(), res.Location) })
	want := rbdloc.Location{FSID: c.FSID(), Pool: s.cfg.Pool, Image: id, Snapshot: "snap"}.String()
	if res.Location != want || res.Size != int64(len(data)) || res.MD5 == "" || res.SHA512 == "" {
		t.Fatalf("result %+v, want location %s", res, want)
	}
	info, err := c.Stat(ctx, s.cfg.Pool, id)
	if err != nil {
		t.Fatal(err)
	}
	if info.Size != uint64(len(data)) || info.ObjectSize != 8<<20 || info.Features&ceph.FeatureLayering == 0 || info.Parent != nil {
		t.Fatalf("image %+v", info)
	}
	snaps, err := c.ListSnapshots(ctx, s.cfg.Pool, id)
	if err != nil || !slices.Equal(snaps, []string{"snap"}) {
		t.Fatalf("snapshots %v %v", snaps, err)
	}
	used, err := c.UsedBytes(ctx, s.cfg.Pool, id)
	if err != nil {
		t.Fatal(err)
	}
	if used > 16<<20 {
		t.Fatalf("%d bytes allocated for 2 objects of data: writes are not thin", used)
	}
	// The snapshot is what clones use: it must hold the data.
	obj, err := s.Open(ctx, res.Location)
	if err != nil {
		t.Fatal(err)
	}
	defer obj.Close()
	got := make([]byte, len(data))
	if _, err := obj.ReadAt(got, 0); err != nil || !bytes.Equal(got, data) {
		t.Fatalf("read back differs (%v)", err)
	}
	for _, loc := range []string{
		rbdloc.Location{FSID: c.FSID(), Pool: pools.vms, Image: id, Snapshot: "snap"}.String(),
		rbdloc.Location{FSID: "00000000-0000-0000-0000-000000000000", Pool: s.cfg.Pool, Image: id, Snapshot: "snap"}.String(),
		rbdloc.Location{FSID: c.FSID(), Pool: s.cfg.Pool, Image: id, Snapshot: "other"}.String(),
	} {
		if _, err := s.Open(ctx, loc); !errors.Is(err, errs.ErrBadLocation) {
			t.Errorf("open %s: %v", loc, err)
		}
		if err := s.Delete(ctx, loc); !errors.Is(err, errs.ErrBadLocation) {
			t.Errorf("delete %s: %v", loc, err)
		}
	}
}

// TestDeleteWithClones: an image with dependent disks is refused with
// their number and left whole; without them it goes completely.
func TestDeleteWithClones(t *testing.T) {
	for _, protect := range []bool{true, false} {
		ctx, c, s, vms := setup(t, Config{ChunkSize: 1 << 20, ProtectSnapshot: protect})
		const id = "6a1f0c55-3f7e-4c55-9c55-000000000002"
		res, err := s.Put(ctx, id, bytes.NewReader(storetest.Data(3<<20, 5)), -1)
		if err != nil {
			t.Fatal(err)
		}
		parent := ceph.SnapRef{Pool: s.cfg.Pool, Image: id, Snap: SnapName}
		disks := []string{"9b2c4f00-0000-4000-8000-000000000001_disk", "9b2c4f00-0000-4000-8000-000000000002_disk"}
		for _, d := range disks {
			if err := c.Clone(ctx, parent, vms, d, ceph.ImageOptions{}); err != nil {
				t.Fatal(err)
			}
		}
		err = s.Delete(ctx, res.Location)
		var inUse *store.InUseError
		if !errors.As(err, &inUse) || inUse.Count != 2 || !errors.Is(err, errs.ErrInUse) {
			t.Fatalf("protect=%v: delete with 2 clones: %v", protect, err)
		}
		if ok, err := c.Exists(ctx, s.cfg.Pool, id, SnapName); !ok || err != nil {
			t.Fatalf("protect=%v: image or snapshot touched by a refused delete: %v %v", protect, ok, err)
		}
		for _, d := range disks {
			if err := c.Remove(ctx, vms, d, ceph.RemoveOptions{Retries: -1}); err != nil {
				t.Fatal(err)
			}
		}
		if err := s.Delete(ctx, res.Location); err != nil {
			t.Fatalf("protect=%v: delete without clones: %v", protect, err)
		}
		testcluster.AssertPoolClean(t, c, s.cfg.Pool)
		testcluster.AssertPoolClean(t, c, vms)
	}
}

func TestConfig(t *testing.T) {
	for _, tc := range []struct {
		cfg Config
		ok  bool
	}{
		{Config{Pool: "p"}, true},
		{Config{Pool: "p", ChunkSize: 1 << 20}, true},
		{Config{}, false},
		{Config{Pool: "p", ChunkSize: 3 << 20}, false},
		{Config{Pool: "p", ChunkSize: 64 << 20}, false},
		{Config{Pool: "p", ChunkSize: 1 << 20, WriteSize: 2 << 20}, false},
		{Config{Pool: "p", WriteSize: 1000}, false},
		{Config{Pool: "p", Features: 1 | 8}, false},   // object-map without exclusive-lock
		{Config{Pool: "p", Features: 1 | 128}, false}, // data-pool is librbd's to set
		{Config{Pool: "p", Features: 1 | 4 | 8 | 16 | 32}, true},
	} {
		s, err := New(nil, tc.cfg)
		if (err == nil) != tc.ok || (err != nil && !errors.Is(err, errs.ErrInvalid)) {
			t.Errorf("%+v: %v", tc.cfg, err)
		}
		if err == nil && (s.cfg.WriteSize > s.cfg.ChunkSize || s.cfg.Workers != DefaultWorkers) {
			t.Errorf("%+v: defaults %+v", tc.cfg, s.cfg)
		}
	}
}
