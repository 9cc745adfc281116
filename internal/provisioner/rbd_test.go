package provisioner

import (
	"cmp"
	"context"
	"crypto/sha512"
	"encoding/hex"
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/cowdisk/cowdisk/internal/ceph"
	"github.com/cowdisk/cowdisk/internal/errs"
)

const mib = 1 << 20

type rbdFixture struct {
	c      *fakeCluster
	images *fakeImages
	b      *RBD
}

func newRBDFixture(t *testing.T, mod func(*RBDConfig)) rbdFixture {
	t.Helper()
	f := rbdFixture{c: newFakeCluster(), images: newFakeImages()}
	cfg := RBDConfig{ImagesPool: "images", VMsPool: "vms", Node: "n1"}
	if mod != nil {
		mod(&cfg)
	}
	b, err := NewRBD(f.c, f.images, cfg, discard())
	if err != nil {
		t.Fatal(err)
	}
	// The fake cluster holds no bytes to inspect; the cluster tests check
	// clone sources (TestHostileRawLabelOnQCOW2).
	b.probe = probeWith(b, func(context.Context, ceph.SnapRef, Image) error { return nil })
	f.b = b
	return f
}

// cloneable publishes a raw image the way the image service's rbd store does.
func (f rbdFixture) cloneable(id string, size uint64) {
	f.c.put("images", id, size, "snap")
	f.images.add(Image{ID: id, DiskFormat: "raw", Size: int64(size), Locations: []string{"rbd://fsid-1/images/" + id + "/snap"}}, nil)
}

// downloadable publishes a raw image that must be fetched (foreign cluster).
func (f rbdFixture) downloadable(id string, data []byte) Image {
	sum := sha512.Sum512(data)
	img := Image{ID: id, DiskFormat: "raw", HashAlgo: "sha512", HashValue: hex.EncodeToString(sum[:]),
		Locations: []string{"rbd://fsid-other/images/" + id + "/snap"}}
	f.images.add(img, data)
	return img
}

func TestCreateClonesWithoutDownloading(t *testing.T) {
	f := newRBDFixture(t, nil)
	f.cloneable("11111111-1111-4111-8111-111111111111", 8*mib)
	ctx := context.Background()
	d, err := f.b.Create(ctx, Request{InstanceID: "i1", ImageID: "11111111-1111-4111-8111-111111111111", SizeBytes: 16 * mib})
	if err != nil {
		t.Fatal(err)
	}
	if d.Method != MethodClone || d.Image != "i1_disk" || d.SizeBytes != 16*mib || d.Parent != "images/11111111-1111-4111-8111-111111111111@snap" || d.ImageID != "11111111-1111-4111-8111-111111111111" {
		t.Fatalf("disk %+v", d)
	}
	if f.images.downloads != 0 || f.b.Stats().BytesDownloaded.Load() != 0 {
		t.Fatalf("clone downloaded %d times", f.images.downloads)
	}
	again, err := f.b.Create(ctx, Request{InstanceID: "i1", ImageID: "11111111-1111-4111-8111-111111111111"})
	if err != nil || !again.Existed || again.SizeBytes != 16*mib {
		t.Fatalf("repeat: %+v %v", again, err)
	}
	f.cloneable("22222222-2222-4222-8222-222222222222", 8*mib)
	if _, err := f.b.Create(ctx, Request{InstanceID: "i1", ImageID: "22222222-2222-4222-8222-222222222222"}); !errors.Is(err, errs.ErrConflict) {
		t.Fatalf("other image: %v, want conflict", err)
	}
	if got := f.c.names("vms"); !slices.Equal(got, []string{"i1_disk"}) {
		t.Fatalf("vms pool %v", got)
	}
}

func TestCreateRefusals(t *testing.T) {
	f := newRBDFixture(t, func(c *RBDConfig) { c.NeverDownload = true })
	f.cloneable("11111111-1111-4111-8111-111111111111", 8*mib)
	f.downloadable("fa000000-0000-4000-8000-000000000000", make([]byte, mib))
	f.images.add(Image{ID: "9e000000-0000-4000-8000-000000000000", Status: "queued", DiskFormat: "raw"}, nil)
	tests := []struct {
		name string
		req  Request
		want error
	}{
		{"smaller than image", Request{InstanceID: "i1", ImageID: "11111111-1111-4111-8111-111111111111", SizeBytes: 4 * mib}, errs.ErrTooSmall},
		{"never download", Request{InstanceID: "i1", ImageID: "fa000000-0000-4000-8000-000000000000"}, errs.ErrRefused},
		{"unknown image", Request{InstanceID: "i1", ImageID: "00000000-0000-4000-8000-00000000dead"}, errs.ErrNotFound},
		{"image without data", Request{InstanceID: "i1", ImageID: "9e000000-0000-4000-8000-000000000000"}, errs.ErrConflict},
		{"bad instance", Request{InstanceID: "base", ImageID: "11111111-1111-4111-8111-111111111111"}, errs.ErrInvalid},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := f.b.Create(context.Background(), tc.req)
			if !errors.Is(err, tc.want) {
				t.Fatalf("err %v, want %v", err, tc.want)
			}
			if got := f.c.names("vms"); len(got) != 0 {
				t.Fatalf("left behind %v", got)
			}
		})
	}
}

func TestFallbackMakesOneBaseForConcurrentBoots(t *testing.T) {
	f := newRBDFixture(t, nil)
	img := f.downloadable("fa000000-0000-4000-8000-000000000000", make([]byte, 2*mib))
	f.images.gate = make(chan struct{})
	var wg sync.WaitGroup
	disks := make([]Disk, 16)
	errsOut := make([]error, 16)
	for i := range disks {
		wg.Add(1)
		go func() {
			defer wg.Done()
			disks[i], errsOut[i] = f.b.Create(context.Background(), Request{InstanceID: "i" + string(rune('a'+i)), ImageID: "fa000000-0000-4000-8000-000000000000"})
		}()
	}
	close(f.images.gate)
	wg.Wait()
	for i, err := range errsOut {
		if err != nil {
			t.Fatal(err)
		}
		if d := disks[i]; d.Method != MethodBaseClone || !strings.HasPrefix(d.Parent, "vms/base_fa000000-0000-4000-8000-000000000000@snap-") || len(d.Reasons) != 1 {
			t.Fatalf("disk %+v", d)
		}
	}
	if f.images.downloads != 1 {
		t.Fatalf("%d downloads, want 1", f.images.downloads)
	}
	bases, err := f.b.Bases(context.Background())
	if err != nil || len(bases) != 1 || len(bases[0].Children) != 16 || bases[0].Snapshot != baseSnapName(img) {
		t.Fatalf("bases %+v %v", bases, err)
	}
	if pruned, err := f.b.Prune(context.Background()); err != nil || len(pruned) != 0 {
		t.Fatalf("pruned a used base: %v %v", pruned, err)
	}
}

func TestFallbackRejectsBadData(t *testing.T) {
	f := newRBDFixture(t, nil)
	img := f.downloadable("fa000000-0000-4000-8000-000000000000", make([]byte, mib))
	img.HashValue = strings.Repeat("0", 128)
	f.images.add(img, make([]byte, mib))
	_, err := f.b.Create(context.Background(), Request{InstanceID: "i1", ImageID: "fa000000-0000-4000-8000-000000000000"})
	if !errors.Is(err, errs.ErrChecksum) {
		t.Fatalf("err %v, want checksum", err)
	}
	if got := f.c.names("vms"); len(got) != 0 {
		t.Fatalf("left behind %v", got)
	}
}

func TestStaleBaseIsReplacedOrBypassed(t *testing.T) {
	f := newRBDFixture(t, nil)
	ctx := context.Background()
	f.downloadable("fa000000-0000-4000-8000-000000000000", make([]byte, mib))
	if _, err := f.b.Create(ctx, Request{InstanceID: "i1", ImageID: "fa000000-0000-4000-8000-000000000000"}); err != nil {
		t.Fatal(err)
	}
	// The image is re-uploaded with other data under the same id.
	f.downloadable("fa000000-0000-4000-8000-000000000000", append(make([]byte, mib-1), 1))
	d, err := f.b.Create(ctx, Request{InstanceID: "i2", ImageID: "fa000000-0000-4000-8000-000000000000"})
	if err != nil {
		t.Fatal(err)
	}
	if d.Method != MethodImport || d.Parent != "" {
		t.Fatalf("disk %+v: the old base has a child, want a private import", d)
	}
	if err := f.b.DeleteInstance(ctx, "i1"); err != nil {
		t.Fatal(err)
	}
	d, err = f.b.Create(ctx, Request{InstanceID: "i3", ImageID: "fa000000-0000-4000-8000-000000000000"})
	if err != nil || d.Method != MethodBaseClone {
		t.Fatalf("disk %+v %v: an unused stale base should be rebuilt", d, err)
	}
}

func TestDeleteInstanceRemovesExactlyItsDisks(t *testing.T) {
	f := newRBDFixture(t, nil)
	f.cloneable("11111111-1111-4111-8111-111111111111", mib)
	ctx := context.Background()
	for _, r := range []Request{{InstanceID: "i1"}, {InstanceID: "i1", Name: "disk.local"}, {InstanceID: "i10"}, {InstanceID: "i2"}} {
		r.ImageID = "11111111-1111-4111-8111-111111111111"
		if _, err := f.b.Create(ctx, r); err != nil {
			t.Fatal(err)
		}
	}
	for range 2 { // twice is fine
		if err := f.b.DeleteInstance(ctx, "i1"); err != nil {
			t.Fatal(err)
		}
	}
	if got := f.c.names("vms"); !slices.Equal(got, []string{"i10_disk", "i2_disk"}) {
		t.Fatalf("vms pool %v", got)
	}
	list, err := f.b.List(ctx, "i10")
	if err != nil || len(list) != 1 || list[0].Name != "disk" {
		t.Fatalf("list %+v %v", list, err)
	}
}

func TestHardDepthFlattens(t *testing.T) {
	f := newRBDFixture(t, func(c *RBDConfig) { c.SoftDepth, c.HardDepth = 1, 1 })
	f.cloneable("11111111-1111-4111-8111-111111111111", mib)
	d, err := f.b.Create(context.Background(), Request{InstanceID: "i1", ImageID: "11111111-1111-4111-8111-111111111111"})
	if err != nil {
		t.Fatal(err)
	}
	flatten, set := slices.Index(f.c.calls, "flatten vms/i1_disk"), slices.Index(f.c.calls, "set-metadata vms/i1_disk")
	if d.Parent != "" || flatten < 0 || set < flatten {
		t.Fatalf("disk %+v, calls %v: want flattened before it is marked complete", d, f.c.calls)
	}
}

func TestResizeGrowsOnly(t *testing.T) {
	f := newRBDFixture(t, nil)
	f.cloneable("11111111-1111-4111-8111-111111111111", 4*mib)
	ctx := context.Background()
	if _, err := f.b.Create(ctx, Request{InstanceID: "i1", ImageID: "11111111-1111-4111-8111-111111111111"}); err != nil {
		t.Fatal(err)
	}
	if d, err := f.b.Resize(ctx, "i1", "disk", 8*mib); err != nil || d.SizeBytes != 8*mib {
		t.Fatalf("grow: %+v %v", d, err)
	}
	if _, err := f.b.Resize(ctx, "i1", "disk", mib); !errors.Is(err, errs.ErrTooSmall) {
		t.Fatalf("shrink: %v", err)
	}
	if _, err := f.b.Resize(ctx, "i9", "disk", mib); !errors.Is(err, errs.ErrNotFound) {
		t.Fatalf("missing: %v", err)
	}
}

// Reap asks this node's journal, and nothing else: names spelled like its
// temporaries, or recorded by another node, stay.
func TestReapTakesOnlyRecordedNames(t *testing.T) {
	f := newRBDFixture(t, nil)
	ctx := context.Background()
	mine, _ := f.c.Stage(ctx, "vms", "n1", "i1_disk")
	theirs, _ := f.c.Stage(ctx, "vms", "n2", "base_y")
	for _, n := range []string{mine, theirs, "i1_disk.tmp-n1-aa", "base_x.tmp-n1-bb", "i1_disk"} {
		f.c.put("vms", n, mib)
	}
	reaped, err := f.b.Reap(ctx)
	if err != nil || !slices.Equal(reaped, []string{mine}) {
		t.Fatalf("Reap = %v, %v; want only %s", reaped, err, mine)
	}
	if got := f.c.names("vms"); slices.Contains(got, mine) || len(got) != 4 {
		t.Fatalf("left %v", got)
	}
}

// probeWith is probeSource on the fake cluster: existence and facts from
// the fake's records, the inspection's verdict from check.
func probeWith(b *RBD, check func(context.Context, ceph.SnapRef, Image) error) func(context.Context, ceph.SnapRef, Image) (sourceProbe, error) {
	return func(ctx context.Context, ref ceph.SnapRef, img Image) (sourceProbe, error) {
		ok, err := b.c.Exists(ctx, ref.Pool, ref.Image, ref.Snap)
		if err != nil || !ok {
			return sourceProbe{}, cmp.Or(err, errs.ErrNotFound)
		}
		if err := check(ctx, ref, img); err != nil {
			return sourceProbe{refused: err}, nil
		}
		f, err := b.parentFacts(ctx, ref)
		return sourceProbe{facts: f}, err
	}
}
