package ceph_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/cowdisk/cowdisk/internal/ceph"
	"github.com/cowdisk/cowdisk/internal/errs"
	"github.com/cowdisk/cowdisk/internal/testcluster"
)

func TestConnectShared(t *testing.T) {
	c1 := testcluster.Connect(t)
	c2 := testcluster.Connect(t)
	if c1.FSID() == "" || c1.FSID() != c2.FSID() {
		t.Fatalf("fsids %q and %q", c1.FSID(), c2.FSID())
	}
	if err := c2.Close(); err != nil {
		t.Fatal(err)
	}
	// c1 must still work after another handle on the same connection closed.
	ctx, _, images, _ := setup(t)
	if _, err := c1.ListImages(ctx, images); err != nil {
		t.Fatalf("list after closing another handle: %v", err)
	}
	addrs, err := c1.MonitorAddrs(ctx)
	if err != nil || len(addrs) == 0 {
		t.Fatalf("MonitorAddrs = %v, %v", addrs, err)
	}
}

func TestImageLifecycle(t *testing.T) {
	ctx, c, pool, _ := setup(t)
	name := imageName(t, "")
	if err := c.CreateImage(ctx, pool, name, 8*mib, ceph.ImageOptions{}); err != nil {
		t.Fatal(err)
	}
	removeAtEnd(t, c, pool, name+"-renamed")
	if err := c.CreateImage(ctx, pool, name, mib, ceph.ImageOptions{}); !errors.Is(err, errs.ErrExists) {
		t.Fatalf("create over existing: %v, want ErrExists", err)
	}
	info, err := c.Stat(ctx, pool, name)
	if err != nil || info.Size != 8*mib || info.ObjectSize != 4*mib || info.Features&ceph.FeatureLayering == 0 || info.Parent != nil {
		t.Fatalf("Stat = %+v, %v", info, err)
	}
	if err := c.Resize(ctx, pool, name, 16*mib, false); err != nil {
		t.Fatal(err)
	}
	if err := c.Resize(ctx, pool, name, 4*mib, false); !errors.Is(err, errs.ErrInvalid) {
		t.Fatalf("shrink without allow: %v, want ErrInvalid", err)
	}
	if err := c.Resize(ctx, pool, name, 4*mib, true); err != nil {
		t.Fatal(err)
	}
	if size, err := c.Size(ctx, pool, name); err != nil || size != 4*mib {
		t.Fatalf("Size = %d, %v", size, err)
	}
	if err := c.Rename(ctx, pool, name, name+"-renamed"); err != nil {
		t.Fatal(err)
	}
	testcluster.AssertPoolClean(t, c, pool, name+"-renamed")
}

func TestExists(t *testing.T) {
	ctx, c, pool, _ := setup(t)
	name := imageName(t, "")
	newImage(t, ctx, c, pool, name, mib)
	if err := c.CreateSnapshot(ctx, pool, name, "snap"); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		pool, name, snap string
		want             bool
		err              error
	}{
		{pool, name, "", true, nil},
		{pool, name, "snap", true, nil},
		{pool, name, "nosnap", false, nil},
		{pool, "missing", "", false, nil},
		{"no-such-pool", name, "", false, errs.ErrNotFound},
	} {
		got, err := c.Exists(ctx, tc.pool, tc.name, tc.snap)
		if got != tc.want || !errors.Is(err, tc.err) || (tc.err == nil) != (err == nil) {
			t.Errorf("Exists(%s/%s@%s) = %v, %v; want %v, %v", tc.pool, tc.name, tc.snap, got, err, tc.want, tc.err)
		}
	}
}

func TestErrorsNameTheObject(t *testing.T) {
	ctx, c, pool, _ := setup(t)
	for _, tc := range []struct {
		what, names string
		err         error
	}{
		{"stat", pool + "/ghost", func() error { _, err := c.Stat(ctx, pool, "ghost"); return err }()},
		{"create snapshot", pool + "/ghost", c.CreateSnapshot(ctx, pool, "ghost", "s1")},
		{"remove snapshot", pool + "/ghost", c.RemoveSnapshot(ctx, pool, "ghost", "s1", true)},
		{"list pool", "no-such-pool", func() error { _, err := c.ListImages(ctx, "no-such-pool"); return err }()},
	} {
		if !errors.Is(tc.err, errs.ErrNotFound) {
			t.Errorf("%s: %v, want ErrNotFound", tc.what, tc.err)
		}
		if tc.err != nil && !strings.Contains(tc.err.Error(), tc.names) {
			t.Errorf("%s: %q does not name %q", tc.what, tc.err, tc.names)
		}
	}
}
