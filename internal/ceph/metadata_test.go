package ceph_test

import (
	"errors"
	"testing"

	"github.com/cowdisk/cowdisk/internal/ceph"
	"github.com/cowdisk/cowdisk/internal/errs"
)

// Metadata set on a clone under a temporary name is still there after the
// rename, a resize and a flatten: the provisioner records a disk's owner
// this way before publishing it.
func TestMetadataFollowsImage(t *testing.T) {
	ctx, c, parent, tmp := cloneOf(t, randomData(t, 2*mib))
	_, _, _, vms := setup(t)
	want := map[string]string{"cowdisk.owner": "p1", "cowdisk.image_id": parent.Image, "cowdisk.method": "clone"}
	if err := c.SetMetadata(ctx, vms, tmp, want); err != nil {
		t.Fatal(err)
	}
	final := imageName(t, "_final")
	if err := c.Rename(ctx, vms, tmp, final); err != nil {
		t.Fatal(err)
	}
	removeAtEnd(t, c, vms, final)
	steps := map[string]func() error{
		"rename":  func() error { return nil },
		"resize":  func() error { return c.Resize(ctx, vms, final, 4*mib, false) },
		"flatten": func() error { return c.Flatten(ctx, vms, final) },
	}
	for _, step := range []string{"rename", "resize", "flatten"} {
		if err := steps[step](); err != nil {
			t.Fatalf("%s: %v", step, err)
		}
		got, err := c.Metadata(ctx, vms, final)
		if err != nil {
			t.Fatalf("after %s: %v", step, err)
		}
		for k, v := range want {
			if got[k] != v {
				t.Errorf("after %s: %s = %q, want %q (all: %v)", step, k, got[k], v, got)
			}
		}
	}
	if info, kv, err := c.StatMetadata(ctx, vms, final); err != nil || info.Parent != nil || info.Size != 4*mib || kv["cowdisk.owner"] != "p1" {
		t.Fatalf("flattened and resized image: %+v %v %v", info, kv, err)
	}
}

func TestMetadataEmptyAndMissing(t *testing.T) {
	ctx, c, _, vms := setup(t)
	name := imageName(t, "")
	newImage(t, ctx, c, vms, name, mib)
	if kv, err := c.Metadata(ctx, vms, name); err != nil || kv == nil || kv["cowdisk.owner"] != "" {
		t.Fatalf("image without metadata: %v %v", kv, err)
	}
	if _, err := c.Metadata(ctx, vms, name+"-nope"); !errors.Is(err, errs.ErrNotFound) {
		t.Fatalf("missing image: %v, want ErrNotFound", err)
	}
	if err := c.SetMetadata(ctx, vms, name+"-nope", map[string]string{"k": "v"}); !errors.Is(err, errs.ErrNotFound) {
		t.Fatalf("set on missing image: %v, want ErrNotFound", err)
	}
}

// Complete grows only when asked and writes the keys with the completion
// marker in one write that librbd reads back; on an image whose header a
// crash cut short it fails without making a header.
func TestComplete(t *testing.T) {
	ctx, c, _, disk := cloneOf(t, randomData(t, 2*mib))
	_, _, _, vms := setup(t)
	for _, tc := range []struct {
		grow, want uint64
	}{{0, 2 * mib}, {4 * mib, 4 * mib}} {
		kv := map[string]string{"cowdisk.owner": "p1", "cowdisk.method": "clone", "k": "v \xff\n"}
		if err := c.Complete(ctx, vms, disk, tc.grow, kv); err != nil {
			t.Fatal(err)
		}
		info, got, err := c.StatMetadata(ctx, vms, disk)
		if err != nil || info.Size != tc.want || got[ceph.MetaComplete] == "" {
			t.Fatalf("grow %d: %+v %v %v", tc.grow, info, got, err)
		}
		for k, v := range kv {
			if got[k] != v {
				t.Errorf("grow %d: %q = %q, want %q", tc.grow, k, got[k], v)
			}
		}
	}
	for _, bad := range []map[string]string{{"": "empty key"}, {"k\x00": "v"}, {"k": "v\x00"}} {
		if err := c.Complete(ctx, vms, disk, 0, bad); !errors.Is(err, errs.ErrInvalid) {
			t.Errorf("Complete with %q: %v, want ErrInvalid", bad, err)
		}
	}
	cut := imageName(t, "_cut")
	newImage(t, ctx, c, vms, cut, mib)
	if err := c.DropHeader(ctx, vms, cut); err != nil {
		t.Fatal(err)
	}
	if err := c.Complete(ctx, vms, cut, 0, nil); !errors.Is(err, errs.ErrNotFound) {
		t.Fatalf("Complete of a header cut short: %v, want ErrNotFound", err)
	}
	if _, err := c.Stat(ctx, vms, cut); !errors.Is(err, errs.ErrNotFound) {
		t.Fatalf("Complete made a header: Stat = %v", err)
	}
}
