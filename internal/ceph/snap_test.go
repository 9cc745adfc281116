package ceph_test

import (
	"errors"
	"slices"
	"testing"

	"github.com/cowdisk/cowdisk/internal/errs"
)

func TestSnapshots(t *testing.T) {
	ctx, c, pool, _ := setup(t)
	name := imageName(t, "")
	newImage(t, ctx, c, pool, name, mib)
	steps := []struct {
		what string
		err  error
		want error
	}{
		{"create a", c.CreateSnapshot(ctx, pool, name, "a"), nil},
		{"create b", c.CreateSnapshot(ctx, pool, name, "b"), nil},
		{"create a again", c.CreateSnapshot(ctx, pool, name, "a"), errs.ErrExists},
		{"protect a", c.ProtectSnapshot(ctx, pool, name, "a"), nil},
		{"protect a twice", c.ProtectSnapshot(ctx, pool, name, "a"), nil},
		{"remove protected a", c.RemoveSnapshot(ctx, pool, name, "a", false), errs.ErrBusy},
		{"force remove a", c.RemoveSnapshot(ctx, pool, name, "a", true), nil},
		{"unprotect unprotected b", c.UnprotectSnapshot(ctx, pool, name, "b"), nil},
		{"remove missing", c.RemoveSnapshot(ctx, pool, name, "zz", false), errs.ErrNotFound},
	}
	for _, s := range steps {
		if !errors.Is(s.err, s.want) || (s.want == nil) != (s.err == nil) {
			t.Errorf("%s: %v, want %v", s.what, s.err, s.want)
		}
	}
	if got, err := c.ListSnapshots(ctx, pool, name); err != nil || !slices.Equal(got, []string{"b"}) {
		t.Fatalf("ListSnapshots = %v, %v", got, err)
	}
}
