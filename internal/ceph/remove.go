package ceph

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"syscall"
	"time"

	"github.com/ceph/go-ceph/rados"
	"github.com/ceph/go-ceph/rbd"

	"github.com/cowdisk/cowdisk/internal/backoff"
	"github.com/cowdisk/cowdisk/internal/errs"
)

// RemoveOptions bound the retries of Remove. The zero value means Nova's
// defaults: 12 retries 5 s apart, then the trash. Retries < 0 means none.
type RemoveOptions struct {
	Retries           int
	Interval          time.Duration
	TrashAsLastResort bool
}

func (o RemoveOptions) withDefaults() RemoveOptions {
	if o == (RemoveOptions{}) {
		o.TrashAsLastResort = true
	}
	if o.Retries == 0 {
		o.Retries = 12
	}
	if o.Retries < 0 {
		o.Retries = 0
	}
	if o.Interval <= 0 {
		o.Interval = 5 * time.Second
	}
	return o
}

// Remove removes pool/name and its snapshots. A missing image is success.
//
// An image with watchers (a VM that was just stopped, a reader still open)
// is busy: Remove retries o.Retries times, o.Interval apart, and then, if
// o.TrashAsLastResort, moves the image to the trash, which frees the name at
// once; TrashPurge removes it later. An image whose snapshots have clones
// is errs.ErrInUse and is not touched: no retry can fix that.
func (c *Cluster) Remove(ctx context.Context, pool, name string, o RemoveOptions) error {
	o = o.withDefaults()
	return c.withPool(ctx, pool, func(io *rados.IOContext) error {
		var err error // removeOnce's last answer, raw
		retry := backoff.Policy{Initial: o.Interval, Attempts: o.Retries + 1}
		werr := retry.Retry(ctx, func(context.Context, int) error {
			if err = removeOnce(io, pool, name); err == nil || isNotFound(err) {
				err = nil
				return nil
			}
			if !errno(err, ebusy) {
				return backoff.Permanent(err) // only a watcher goes away by waiting
			}
			return err
		})
		if werr == nil {
			return nil
		}
		if cerr := ctx.Err(); cerr != nil && errors.Is(werr, cerr) {
			if err == nil { // ended before the first attempt
				return werr
			}
			return errors.Join(translate(err, "remove", imageSpec(pool, name)), cerr)
		}
		if errno(err, ebusy) && o.TrashAsLastResort {
			return trashBusy(io, pool, name, err)
		}
		if errors.Is(err, errs.ErrInUse) {
			return err // already names the snapshot and its clones
		}
		return translate(err, "remove", imageSpec(pool, name))
	})
}

// removeOnce removes the snapshots of name, then name. Errors are raw
// go-ceph errors, or already translated for "has children".
//
// Most images removed have no snapshots (claims, temporaries, disks), so it
// first asks librbd to remove the image outright, which refuses with
// ENOTEMPTY when snapshots exist; only then does it open the image to check
// and remove them. That saves an open and close per removal, which is on the
// path of every clone's publish. librbd's remove also copes with a missing
// header (a create or clone cut short by a crash leaves the name listed, but
// opening it says ENOENT) and drops the id object and directory entry.
func removeOnce(io *rados.IOContext, pool, name string) error {
	err := removeImage(io, pool, name)
	if !errno(err, syscall.ENOTEMPTY) {
		return err
	}
	release := gate.enter(imageKey(pool, name))
	img, err := rbd.OpenImage(io, name, rbd.NoSnapshot)
	release()
	if err != nil {
		return err
	}
	err = removeSnapshots(img, pool, name)
	if cerr := closeImage(imageKey(pool, name), img); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	return removeImage(io, pool, name)
}

// removeSnapshots first checks every snapshot for children, so that an
// image that is still a parent keeps all its snapshots.
func removeSnapshots(img *rbd.Image, pool, name string) error {
	snaps, err := img.GetSnapshotNames()
	if err != nil {
		return err
	}
	for _, s := range snaps {
		if err := refuseChildren(img, pool, name, s.Name); err != nil {
			return err
		}
	}
	for _, s := range snaps {
		if err := removeSnap(img.GetSnapshot(s.Name), true); err != nil {
			return err
		}
	}
	return nil
}

func refuseChildren(img *rbd.Image, pool, name, snap string) error {
	if err := img.SetSnapshot(snap); err != nil {
		return err
	}
	defer func() { _ = img.SetSnapshot(rbd.NoSnapshot) }()
	kids, err := img.ListChildrenAttributes()
	if err != nil {
		return err
	}
	if len(kids) > 0 {
		return fmt.Errorf("ceph: remove %s: %d clone(s), e.g. %s/%s: %w",
			snapSpec(pool, name, snap), len(kids), kids[0].PoolName, kids[0].ImageName, errs.ErrInUse)
	}
	return nil
}

// trashBusy moves a still-busy image to the trash, the last resort.
func trashBusy(io *rados.IOContext, pool, name string, busy error) error {
	key := imageKey(pool, name)
	release := gate.enter(key) // librbd opens the image to move it
	err := rbd.GetImage(io, name).Trash(0)
	release()
	gate.forget(key)
	if err != nil {
		return errors.Join(translate(busy, "remove", imageSpec(pool, name)), translate(err, "move to trash", imageSpec(pool, name)))
	}
	slog.Warn("ceph: image still busy after retries, moved to trash", "pool", pool, "image", name)
	return nil
}

// TrashEntry is one image in a pool's trash.
type TrashEntry struct{ ID, Name string }

// ListTrash lists the trash of pool.
func (c *Cluster) ListTrash(ctx context.Context, pool string) ([]TrashEntry, error) {
	var out []TrashEntry
	err := c.withPool(ctx, pool, func(io *rados.IOContext) error {
		infos, err := rbd.GetTrashList(io)
		for _, t := range infos {
			out = append(out, TrashEntry{ID: t.Id, Name: t.Name})
		}
		return translate(err, "list trash of", poolSpec(pool))
	})
	return out, err
}

// TrashPurge removes every image in the trash of pool that can go now.
// Images that are still clone parents stay; their errors are returned
// joined (errors.Is(err, errs.ErrInUse) or ErrBusy), with any others.
func (c *Cluster) TrashPurge(ctx context.Context, pool string) error {
	return c.purgeTrash(ctx, pool, func(TrashEntry) bool { return true })
}

// TrashPurgeMatching is TrashPurge for the entries whose (original) image
// name match accepts: a node purges only its own temporaries from a shared
// pool's trash, never another node's or an operator's.
func (c *Cluster) TrashPurgeMatching(ctx context.Context, pool string, match func(name string) bool) error {
	return c.purgeTrash(ctx, pool, func(e TrashEntry) bool { return match(e.Name) })
}

func (c *Cluster) purgeTrash(ctx context.Context, pool string, match func(TrashEntry) bool) error {
	entries, err := c.ListTrash(ctx, pool)
	if err != nil {
		return err
	}
	return c.withPool(ctx, pool, func(io *rados.IOContext) error {
		var all []error
		for _, e := range entries {
			if !match(e) {
				continue
			}
			if err := ctx.Err(); err != nil {
				return errors.Join(append(all, err)...)
			}
			// force: ignore the deferment time; we put it there ourselves.
			release := gate.lock() // librbd opens the image; its features are not known here
			err := rbd.TrashRemove(io, e.ID, true)
			release()
			if err != nil && !isNotFound(err) {
				all = append(all, translate(err, "purge from trash", imageSpec(pool, e.Name)+" (id "+e.ID+")"))
			}
		}
		return errors.Join(all...)
	})
}

// CleanupInstance removes every volume of one instance, pool/<instanceID>_*
// (Nova's naming: _disk, _disk.local, ...), with their snapshots, temporary
// names and trashed leftovers. Running it again is harmless.
func (c *Cluster) CleanupInstance(ctx context.Context, pool, instanceID string) error {
	return c.CleanupInstanceWith(ctx, pool, instanceID, RemoveOptions{})
}

// CleanupInstanceWith is CleanupInstance with explicit removal retries.
func (c *Cluster) CleanupInstanceWith(ctx context.Context, pool, instanceID string, o RemoveOptions) error {
	if instanceID == "" || strings.ContainsAny(instanceID, "/@\x00") {
		return fmt.Errorf("ceph: cleanup of instance %q in %s: %w", instanceID, poolSpec(pool), errs.ErrInvalid)
	}
	prefix := instanceID + "_"
	names, err := c.ListImages(ctx, pool)
	if err != nil {
		return err
	}
	var all []error
	for _, n := range names {
		if strings.HasPrefix(n, prefix) {
			all = append(all, c.Remove(ctx, pool, n, o))
		}
	}
	all = append(all, c.purgeTrash(ctx, pool, func(e TrashEntry) bool { return strings.HasPrefix(e.Name, prefix) }))
	return errors.Join(all...)
}
