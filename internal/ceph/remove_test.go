package ceph_test

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/cowdisk/cowdisk/internal/ceph"
	"github.com/cowdisk/cowdisk/internal/errs"
	"github.com/cowdisk/cowdisk/internal/testcluster"
)

// busyImage creates pool/name and holds it open read-write (a watcher,
// like a VM that is shutting down); call the returned func to close it.
func busyImage(t *testing.T, ctx context.Context, c *ceph.Cluster, pool, name string) func() {
	t.Helper()
	if err := c.CreateImage(ctx, pool, name, mib, ceph.ImageOptions{}); err != nil {
		t.Fatal(err)
	}
	unwatch, err := c.OpenWatcher(ctx, pool, name)
	if err != nil {
		t.Fatal(err)
	}
	return unwatch
}

// TestRemoveWaitsForWatcher holds the image open (a watcher, like a VM that
// is shutting down) and releases it while Remove is retrying.
func TestRemoveWaitsForWatcher(t *testing.T) {
	ctx, c, _, vms := setup(t)
	name := imageName(t, "_disk")
	time.AfterFunc(700*time.Millisecond, busyImage(t, ctx, c, vms, name))
	start := time.Now()
	err := c.Remove(ctx, vms, name, ceph.RemoveOptions{Retries: 50, Interval: 100 * time.Millisecond})
	if err != nil {
		t.Fatalf("Remove: %v", err)
	}
	if took := time.Since(start); took < 500*time.Millisecond {
		t.Fatalf("Remove returned after %v, before the watcher closed", took)
	}
	testcluster.AssertPoolClean(t, c, vms)
}

func TestRemoveBusy(t *testing.T) {
	ctx, c, _, vms := setup(t)
	for _, tc := range []struct {
		name  string
		o     ceph.RemoveOptions
		want  error
		trash bool
	}{
		{"gives up", ceph.RemoveOptions{Retries: 2, Interval: 50 * time.Millisecond}, errs.ErrBusy, false},
		{"trash last", ceph.RemoveOptions{Retries: 1, Interval: 50 * time.Millisecond, TrashAsLastResort: true}, nil, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			name := imageName(t, "_disk")
			unwatch := busyImage(t, ctx, c, vms, name)
			err := c.Remove(ctx, vms, name, tc.o)
			unwatch()
			if !errors.Is(err, tc.want) || (tc.want == nil) != (err == nil) {
				t.Fatalf("Remove = %v, want %v", err, tc.want)
			}
			trash, _ := c.ListTrash(ctx, vms)
			if inTrash := slices.ContainsFunc(trash, func(e ceph.TrashEntry) bool { return e.Name == name }); inTrash != tc.trash {
				t.Fatalf("in trash = %v, want %v", inTrash, tc.trash)
			}
			if err := c.Remove(ctx, vms, name, ceph.RemoveOptions{Retries: -1}); err != nil {
				t.Fatal(err)
			}
			if err := c.TrashPurge(ctx, vms); err != nil {
				t.Fatal(err)
			}
			testcluster.AssertPoolClean(t, c, vms)
		})
	}
}

func TestRemoveRefusesParent(t *testing.T) {
	ctx, c, parent, _ := cloneOf(t, randomData(t, mib))
	err := c.Remove(ctx, parent.Pool, parent.Image, ceph.RemoveOptions{Retries: -1})
	if !errors.Is(err, errs.ErrInUse) {
		t.Fatalf("Remove(parent) = %v, want ErrInUse", err)
	}
	if ok, err := c.Exists(ctx, parent.Pool, parent.Image, parent.Snap); !ok || err != nil {
		t.Fatalf("parent snapshot gone after refused remove: %v, %v", ok, err)
	}
}

func TestRemoveMissingIsFine(t *testing.T) {
	ctx, c, _, vms := setup(t)
	if err := c.Remove(ctx, vms, "never-was", ceph.RemoveOptions{}); err != nil {
		t.Fatal(err)
	}
}

func TestCleanupInstance(t *testing.T) {
	ctx, c, _, vms := setup(t)
	const mine, other = "1111-aaaa", "2222-bbbb"
	names := []string{mine + "_disk", mine + "_disk.local", mine + "_disk.tmp-0123", other + "_disk", mine + "x_disk"}
	for _, n := range names {
		if err := c.CreateImage(ctx, vms, n, mib, ceph.ImageOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	if err := c.CreateSnapshot(ctx, vms, mine+"_disk", "s"); err != nil {
		t.Fatal(err)
	}
	for _, keep := range names[3:] {
		removeAtEnd(t, c, vms, keep)
	}
	for range 2 { // idempotent
		if err := c.CleanupInstance(ctx, vms, mine); err != nil {
			t.Fatal(err)
		}
		testcluster.AssertPoolClean(t, c, vms, names[3:]...)
	}
	if err := c.CleanupInstance(ctx, vms, ""); !errors.Is(err, errs.ErrInvalid) {
		t.Fatalf("CleanupInstance(\"\") = %v, want ErrInvalid", err)
	}
}

// A half-made image (listed, but its header is gone) cannot be opened;
// Remove still takes its name out of the pool.
func TestRemoveHalfMade(t *testing.T) {
	ctx, c, _, vms := setup(t)
	name := imageName(t, "_disk")
	if err := c.CreateImage(ctx, vms, name, mib, ceph.ImageOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := c.DropHeader(ctx, vms, name); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Stat(ctx, vms, name); !errors.Is(err, errs.ErrNotFound) {
		t.Fatalf("Stat of a half-made image: %v, want ErrNotFound", err)
	}
	if names, _ := c.ListImages(ctx, vms); !slices.Contains(names, name) {
		t.Fatalf("half-made %s not listed: %v", name, names)
	}
	if err := c.Remove(ctx, vms, name, ceph.RemoveOptions{Retries: -1}); err != nil {
		t.Fatalf("Remove: %v", err)
	}
	if names, _ := c.ListImages(ctx, vms); slices.Contains(names, name) {
		t.Fatalf("%s still listed after Remove: %v", name, names)
	}
}

// TrashPurgeMatching purges only the trash entries whose name matches.
func TestTrashPurgeMatching(t *testing.T) {
	ctx, c, _, vms := setup(t)
	keep, purge := imageName(t, "_keep"), imageName(t, "_purge")
	for _, n := range []string{keep, purge} {
		unwatch := busyImage(t, ctx, c, vms, n)
		err := c.Remove(ctx, vms, n, ceph.RemoveOptions{Retries: -1, TrashAsLastResort: true})
		unwatch()
		if err != nil {
			t.Fatal(err)
		}
	}
	t.Cleanup(func() { _ = c.TrashPurge(context.Background(), vms) })
	if err := c.TrashPurgeMatching(ctx, vms, func(n string) bool { return n == purge }); err != nil {
		t.Fatal(err)
	}
	trash, err := c.ListTrash(ctx, vms)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range trash {
		names = append(names, e.Name)
	}
	if !slices.Contains(names, keep) || slices.Contains(names, purge) {
		t.Fatalf("trash %v: want %s kept, %s purged", names, keep, purge)
	}
}
