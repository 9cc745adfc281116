package provisioner

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/cowdisk/cowdisk/internal/backoff"
	"github.com/cowdisk/cowdisk/internal/ceph"
	"github.com/cowdisk/cowdisk/internal/errs"
)

// errStaleBase: a base exists for the image id but from other image data.
var errStaleBase = errors.New("cached base is from different image data")

// baseSnapName ties a base's snapshot to the image data it holds, so a base
// made before the image changed is never mistaken for the current one.
func baseSnapName(img Image) string {
	h := img.HashValue
	if h == "" {
		h = img.Checksum
	}
	if h == "" {
		return "snap"
	}
	return "snap-" + strings.ToLower(h[:min(len(h), 16)])
}

// ensureBase returns the snapshot of "<vms>/base_<id>", making it when it is
// missing. The base is written, checked and snapshotted under a name staged
// in this node's journal, then published exclusively (ceph.Publish: every
// node may race for a base). A node that loses drops its copy and waits for
// the winner's base.
func (b *RBD) ensureBase(ctx context.Context, img Image) (ceph.SnapRef, error) {
	pool, name, snap := b.cfg.VMsPool, basePrefix+img.ID, baseSnapName(img)
	ref := ceph.SnapRef{Pool: pool, Image: name, Snap: snap}
	lost := false
	for waited := time.Duration(0); ; {
		snaps, err := b.c.ListSnapshots(ctx, pool, name)
		if err == nil {
			if slices.Contains(snaps, snap) {
				return ref, nil
			}
			return b.replaceStaleBase(ctx, img, ref, snaps)
		}
		if !errors.Is(err, errs.ErrNotFound) {
			return ceph.SnapRef{}, err
		}
		if lost {
			if waited >= publishWait {
				return ceph.SnapRef{}, fmt.Errorf("base %s/%s: claimed by another node but not published within %v "+
					"(a node that crashed while publishing leaves %s until its agent restarts and reaps it; if that node is gone, remove it by hand): %w", pool, name, publishWait, ceph.ClaimName(name), errs.ErrBusy)
			}
			if err := backoff.Sleep(ctx, publishPoll); err != nil {
				return ceph.SnapRef{}, err
			}
			waited += publishPoll
			continue
		}
		if lost, err = b.makeBase(ctx, img, ref); err == nil {
			return ref, nil
		}
		if !lost {
			return ceph.SnapRef{}, err
		}
		b.log.InfoContext(ctx, "another node is publishing the base, using theirs", "base", name)
	}
}

// makeBase fetches img into a name staged for ref's base, snapshots it and
// publishes it exclusively; lost says another node's base won the publish.
// It holds a fetch slot from before the name is staged until the name is
// published or removed, so the slots in use (FetchesInFlight) cover every
// name this node has staged and not yet settled.
func (b *RBD) makeBase(ctx context.Context, img Image, ref ceph.SnapRef) (lost bool, err error) {
	if err := b.fetches.acquire(ctx); err != nil {
		return false, err
	}
	defer b.fetches.release()
	tmp, err := b.c.Stage(ctx, ref.Pool, b.cfg.Node, ref.Image)
	if err != nil {
		return false, err
	}
	if _, err := b.fetchRaw(ctx, img, tmp); err != nil {
		return false, err
	}
	err = b.c.CreateSnapshot(ctx, ref.Pool, tmp, ref.Snap)
	if err == nil {
		err = b.c.Publish(ctx, ref.Pool, tmp, ref.Image, b.cfg.Node)
	}
	if err == nil {
		b.settle(ctx, tmp)
		b.log.InfoContext(ctx, "base created", "base", ref.Image, "snap", ref.Snap)
		return false, nil
	}
	b.cleanup(ctx, tmp, err)
	return errors.Is(err, errs.ErrExists), err
}

// A claim is held only for the rename (milliseconds); a loser waits this
// long for the winner's base.
const (
	publishWait = 30 * time.Second
	publishPoll = 250 * time.Millisecond
)

// replaceStaleBase removes a base from older image data when no disk depends
// on it, and reports errStaleBase otherwise (the caller then imports a
// private copy rather than clone the wrong bytes).
func (b *RBD) replaceStaleBase(ctx context.Context, img Image, want ceph.SnapRef, snaps []string) (ceph.SnapRef, error) {
	stale := fmt.Errorf("base %s/%s has snapshots %v, not %s: %w", want.Pool, want.Image, snaps, want.Snap, errStaleBase)
	for _, s := range snaps {
		kids, err := b.c.Children(ctx, want.Pool, want.Image, s)
		if err != nil {
			return ceph.SnapRef{}, err
		}
		if len(kids) > 0 {
			return ceph.SnapRef{}, stale
		}
	}
	b.log.WarnContext(ctx, "removing stale base", "base", want.Image, "snaps", snaps, "want", want.Snap)
	if err := b.c.Remove(ctx, want.Pool, want.Image, ceph.RemoveOptions{Retries: 1}); err != nil {
		return ceph.SnapRef{}, err
	}
	return b.ensureBase(ctx, img)
}

// importDisk gives the disk a private copy of the image.
func (b *RBD) importDisk(ctx context.Context, img Image, req Request) (Disk, error) {
	if err := b.fetches.acquire(ctx); err != nil { // held until tmp is published or removed (makeBase)
		return Disk{}, err
	}
	defer b.fetches.release()
	tmp, err := b.c.Stage(ctx, b.cfg.VMsPool, b.cfg.Node, diskImageName(req.InstanceID, req.Name))
	if err != nil {
		return Disk{}, err
	}
	virtual, err := b.fetchRaw(ctx, img, tmp)
	if err != nil {
		return Disk{}, err
	}
	mark(ctx, StepClone)
	size, err := diskSize(req, virtual)
	if err != nil {
		b.cleanup(ctx, tmp, err)
		return Disk{}, err
	}
	if err := b.publishStaged(ctx, tmp, growTo(virtual, size), req, MethodImport); err != nil {
		return b.lostPublish(ctx, req, err)
	}
	return b.newDisk(req, size, ""), nil
}

// Bases lists "base_*" images with the disks cloned from them.
func (b *RBD) Bases(ctx context.Context) ([]Base, error) {
	names, err := b.c.ListImages(ctx, b.cfg.VMsPool)
	if err != nil {
		return nil, err
	}
	bases := []Base{}
	for _, n := range names {
		if !strings.HasPrefix(n, basePrefix) || ceph.IsTemp(n) {
			continue
		}
		base, err := b.base(ctx, n)
		if errors.Is(err, errs.ErrNotFound) {
			continue // pruned meanwhile
		}
		if err != nil {
			return nil, err
		}
		bases = append(bases, base)
	}
	return bases, nil
}

func (b *RBD) base(ctx context.Context, name string) (Base, error) {
	pool := b.cfg.VMsPool
	size, err := b.c.Stat(ctx, pool, name)
	if err != nil {
		return Base{}, err
	}
	snaps, err := b.c.ListSnapshots(ctx, pool, name)
	if err != nil {
		return Base{}, err
	}
	base := Base{ImageID: strings.TrimPrefix(name, basePrefix), Pool: pool, Image: name, SizeBytes: size.Size, Children: []string{}}
	if ct, ok := b.c.(creationTimer); ok {
		if base.Created, err = ct.Created(ctx, pool, name); err != nil {
			return Base{}, err
		}
	}
	for _, s := range snaps {
		base.Snapshot = s
		kids, err := b.c.Children(ctx, pool, name, s)
		if err != nil {
			return Base{}, err
		}
		for _, k := range kids {
			base.Children = append(base.Children, k.Pool+"/"+k.Name)
		}
	}
	return base, nil
}

// Prune removes bases no disk depends on.
func (b *RBD) Prune(ctx context.Context) ([]string, error) { return b.PruneWith(ctx, PruneOptions{}) }

// PruneWith removes (or with DryRun lists) the bases prunable picks. A
// clone racing with the removal makes the snapshot removal fail, and that
// base is kept.
func (b *RBD) PruneWith(ctx context.Context, o PruneOptions) ([]string, error) {
	bases, err := b.Bases(ctx)
	if err != nil {
		return nil, err
	}
	removed := []string{}
	for _, base := range prunable(bases, o, time.Now()) {
		if o.DryRun {
			removed = append(removed, base.Pool+"/"+base.Image)
			continue
		}
		err := b.c.Remove(ctx, base.Pool, base.Image, ceph.RemoveOptions{Retries: 1})
		if errors.Is(err, errs.ErrInUse) || errors.Is(err, errs.ErrBusy) {
			b.log.InfoContext(ctx, "base gained a child, kept", "base", base.Image)
			continue
		}
		if err != nil {
			return removed, err
		}
		removed = append(removed, base.Pool+"/"+base.Image)
	}
	return removed, nil
}
