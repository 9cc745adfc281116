package ceph_test

import (
	"errors"
	"testing"

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
