package ceph_test

import (
	"bytes"
	"context"
	"errors"
	"testing"

	"github.com/cowdisk/cowdisk/internal/ceph"
	"github.com/cowdisk/cowdisk/internal/errs"
	"github.com/cowdisk/cowdisk/internal/testcluster"
)

// parentWithSnap imports data as a parent image with snapshot "snap".
func parentWithSnap(t *testing.T, data []byte) (ceph.SnapRef, *ceph.Cluster) {
	t.Helper()
	ctx, c, images, _ := setup(t)
	name := imageName(t, "-base")
	importBytes(t, ctx, c, images, name, data)
	if err := c.CreateSnapshot(ctx, images, name, "snap"); err != nil {
		t.Fatal(err)
	}
	return ceph.SnapRef{Pool: images, Image: name, Snap: "snap"}, c
}

// cloneOf makes a parent from data and clones it into the vms pool.
func cloneOf(t *testing.T, data []byte) (context.Context, *ceph.Cluster, ceph.SnapRef, string) {
	t.Helper()
	parent, c := parentWithSnap(t, data)
	ctx, _, _, vms := setup(t)
	child := imageName(t, "_disk")
	if err := c.Clone(ctx, parent, vms, child, ceph.ImageOptions{}); err != nil {
		t.Fatal(err)
	}
	removeAtEnd(t, c, vms, child)
	return ctx, c, parent, child
}

func TestCloneReadBack(t *testing.T) {
	data := append(randomData(t, 5*mib+123), make([]byte, 3*mib)...)
	ctx, c, parent, child := cloneOf(t, data)
	vms := pools.vms
	if got := readAll(t, ctx, c, vms, child, ""); !bytes.Equal(got, data) {
		t.Fatal("clone does not read back the parent's bytes")
	}
	info, err := c.Stat(ctx, vms, child)
	if err != nil || info.Parent == nil || *info.Parent != parent || info.Overlap != uint64(len(data)) {
		t.Fatalf("Stat = %+v (parent %v), %v", info, info.Parent, err)
	}
	if used, err := c.UsedBytes(ctx, vms, child); err != nil || used != 0 {
		t.Fatalf("a fresh clone uses %d bytes (%v), want 0", used, err)
	}
	kids, err := c.Children(ctx, parent.Pool, parent.Image, parent.Snap)
	if err != nil || len(kids) != 1 || kids[0] != (ceph.Child{Pool: vms, Name: child}) {
		t.Fatalf("Children = %+v, %v", kids, err)
	}
	if d, err := c.CloneDepth(ctx, vms, child); err != nil || d != 1 {
		t.Fatalf("CloneDepth = %d, %v", d, err)
	}
	readerInfoIsStat(t, ctx, c, info)
}

// readerInfoIsStat: an open reader's Info says what Stat says.
func readerInfoIsStat(t *testing.T, ctx context.Context, c *ceph.Cluster, want ceph.ImageInfo) {
	t.Helper()
	r, err := c.OpenReader(ctx, want.Pool, want.Name, "")
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	got, err := r.Info()
	if err != nil || got.Parent == nil || *got.Parent != *want.Parent {
		t.Fatalf("reader Info = %+v, %v; Stat = %+v", got, err, want)
	}
	got.Parent, want.Parent = nil, nil
	if got != want {
		t.Fatalf("reader Info = %+v; Stat = %+v", got, want)
	}
}

func TestCloneFailuresLeaveNothing(t *testing.T) {
	parent, c := parentWithSnap(t, randomData(t, mib))
	ctx, _, images, vms := setup(t)
	taken := imageName(t, "_taken")
	if err := c.CreateImage(ctx, vms, taken, mib, ceph.ImageOptions{}); err != nil {
		t.Fatal(err)
	}
	removeAtEnd(t, c, vms, taken)
	for _, tc := range []struct {
		name   string
		parent ceph.SnapRef
		pool   string
		child  string
		want   error
	}{
		{"missing snapshot", ceph.SnapRef{Pool: parent.Pool, Image: parent.Image, Snap: "nosnap"}, vms, "c1", errs.ErrNotFound},
		{"missing parent", ceph.SnapRef{Pool: parent.Pool, Image: "ghost", Snap: "snap"}, vms, "c2", errs.ErrNotFound},
		{"missing parent pool", ceph.SnapRef{Pool: "no-such-pool", Image: parent.Image, Snap: "snap"}, vms, "c3", errs.ErrNotFound},
		{"missing child pool", parent, "no-such-pool", "c4", errs.ErrNotFound},
		{"existing name", parent, vms, taken, errs.ErrExists},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := c.Clone(ctx, tc.parent, tc.pool, tc.child, ceph.ImageOptions{})
			if !errors.Is(err, tc.want) {
				t.Fatalf("Clone = %v, want %v", err, tc.want)
			}
			testcluster.AssertPoolClean(t, c, vms, taken)
			testcluster.AssertPoolClean(t, c, images, parent.Image)
		})
	}
	// The existing image must be untouched: still a plain image, no parent.
	if info, err := c.Stat(ctx, vms, taken); err != nil || info.Parent != nil {
		t.Fatalf("existing image changed: %+v, %v", info, err)
	}
}

// endsOnceExists is a context that ends as soon as pool/name exists: it
// stands for a caller that gives up while librbd is making the clone.
type endsOnceExists struct {
	context.Context
	c          *ceph.Cluster
	pool, name string
}

func (e endsOnceExists) Err() error {
	if ok, _ := e.c.Exists(context.Background(), e.pool, e.name, ""); ok {
		return context.Canceled
	}
	return nil
}

func TestCloneCancelledAfterCreateRemovesChild(t *testing.T) {
	parent, c := parentWithSnap(t, randomData(t, mib))
	ctx, _, _, vms := setup(t)
	child := imageName(t, "_disk")
	err := c.Clone(endsOnceExists{ctx, c, vms, child}, parent, vms, child, ceph.ImageOptions{})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("Clone = %v, want context.Canceled", err)
	}
	testcluster.AssertPoolClean(t, c, vms)
}

func TestFlatten(t *testing.T) {
	data := randomData(t, 2*mib)
	ctx, c, _, child := cloneOf(t, data)
	vms := pools.vms
	if err := c.Flatten(ctx, vms, child); err != nil {
		t.Fatal(err)
	}
	if d, err := c.CloneDepth(ctx, vms, child); err != nil || d != 0 {
		t.Fatalf("depth after flatten = %d, %v", d, err)
	}
	if got := readAll(t, ctx, c, vms, child, ""); !bytes.Equal(got, data) {
		t.Fatal("flattened clone lost data")
	}
}

// TestCloneInheritsParentObjectSize: Glance's RBD store writes 8 MiB objects;
// a clone that asked for 4 MiB objects was refused by librbd (EINVAL).
func TestCloneInheritsParentObjectSize(t *testing.T) {
	ctx, c, images, vms := setup(t)
	parent := imageName(t, "-big")
	if err := c.CreateImage(ctx, images, parent, 16*mib, ceph.ImageOptions{ObjectSizeOrder: 23}); err != nil {
		t.Fatal(err)
	}
	removeAtEnd(t, c, images, parent)
	if err := c.CreateSnapshot(ctx, images, parent, "snap"); err != nil {
		t.Fatal(err)
	}
	child := imageName(t, "_disk")
	if err := c.Clone(ctx, ceph.SnapRef{Pool: images, Image: parent, Snap: "snap"}, vms, child, ceph.ImageOptions{}); err != nil {
		t.Fatalf("clone of an 8 MiB-object parent: %v", err)
	}
	removeAtEnd(t, c, vms, child)
	if info, err := c.Stat(ctx, vms, child); err != nil || info.ObjectSize != 8*mib {
		t.Fatalf("child object size = %d (%v), want the parent's 8 MiB", info.ObjectSize, err)
	}
}
