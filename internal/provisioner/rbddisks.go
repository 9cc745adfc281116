package provisioner

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/cowdisk/cowdisk/internal/ceph"
	"github.com/cowdisk/cowdisk/internal/errs"
)

// Get reads the disk from the cluster.
func (b *RBD) Get(ctx context.Context, instanceID, name string) (Disk, error) {
	if err := validate(instanceID, name); err != nil {
		return Disk{}, err
	}
	info, meta, err := b.c.StatMetadata(ctx, b.cfg.VMsPool, diskImageName(instanceID, name))
	if err != nil {
		return Disk{}, err
	}
	d := Disk{InstanceID: instanceID, Name: name, Pool: b.cfg.VMsPool, Image: info.Name, SizeBytes: info.Size}
	if d.Image == "" {
		d.Image = diskImageName(instanceID, name)
	}
	if p := info.Parent; p != nil {
		d.Parent = p.String()
		switch {
		case p.Pool == b.cfg.VMsPool && strings.HasPrefix(p.Image, basePrefix):
			d.ImageID, d.Method = strings.TrimPrefix(p.Image, basePrefix), MethodBaseClone
		case slices.Contains(b.cfg.Allow.Pools, p.Pool):
			d.ImageID, d.Method = p.Image, MethodClone
		}
	}
	applyMeta(&d, meta)
	return d, nil
}

// List returns the disks of one instance, or all disks.
func (b *RBD) List(ctx context.Context, instanceID string) ([]Disk, error) {
	names, err := b.c.ListImages(ctx, b.cfg.VMsPool)
	if err != nil {
		return nil, err
	}
	disks := []Disk{}
	for _, n := range names {
		inst, name, ok := splitDiskName(n)
		if !ok || (instanceID != "" && inst != instanceID) {
			continue
		}
		d, err := b.Get(ctx, inst, name)
		if errors.Is(err, errs.ErrNotFound) {
			continue // deleted meanwhile
		}
		if err != nil {
			return nil, err
		}
		disks = append(disks, d)
	}
	return disks, nil
}

// Resize grows the disk; shrinking would destroy guest data and is refused.
func (b *RBD) Resize(ctx context.Context, instanceID, name string, size uint64) (Disk, error) {
	if err := b.cfg.Bounds.checkSize("disk "+diskImageName(instanceID, name), size); err != nil {
		return Disk{}, err
	}
	d, err := b.Get(ctx, instanceID, name)
	if err != nil {
		return Disk{}, err
	}
	if size < d.SizeBytes {
		return Disk{}, fmt.Errorf("disk %s/%s: shrinking %d to %d bytes is refused: %w", d.Pool, d.Image, d.SizeBytes, size, errs.ErrTooSmall)
	}
	if size > d.SizeBytes {
		if err := b.c.Resize(ctx, d.Pool, d.Image, size, false); err != nil {
			return Disk{}, err
		}
	}
	return b.Get(ctx, instanceID, name)
}

// Flatten copies the parent's data into the disk and detaches it.
func (b *RBD) Flatten(ctx context.Context, instanceID, name string) (Disk, error) {
	d, err := b.Get(ctx, instanceID, name)
	if err != nil {
		return Disk{}, err
	}
	if d.Parent != "" {
		if err := b.c.Flatten(ctx, d.Pool, d.Image); err != nil {
			return Disk{}, err
		}
	}
	return b.Get(ctx, instanceID, name)
}

// Delete removes one disk (with retries, then the trash, for a VM that just
// stopped and still has a watcher).
func (b *RBD) Delete(ctx context.Context, instanceID, name string) error {
	if err := validate(instanceID, name); err != nil {
		return err
	}
	return b.c.Remove(ctx, b.cfg.VMsPool, diskImageName(instanceID, name), ceph.RemoveOptions{})
}

// DeleteInstance removes every disk of the instance, temporaries included.
func (b *RBD) DeleteInstance(ctx context.Context, instanceID string) error {
	if err := validate(instanceID, DefaultDiskName); err != nil {
		return err
	}
	return b.c.CleanupInstance(ctx, b.cfg.VMsPool, instanceID)
}

// Reap removes the temporary names this node left in the vms pool (a crash
// mid-create) and purges this node's temporaries from the pool's trash. It
// returns the names it removed, and every failure joined.
//
// A temporary of a process that was killed may still carry that process's
// watch on its header until the OSD expires it (~30 s), and librbd refuses
// to remove a watched image. Moving it to the trash at once would free the
// name but leave it there forever, so Reap first tries every temporary once,
// then retries the busy ones every reapInterval, reapRetries times (Nova's 12
// x 5 s by default, past the watch timeout), and only then trashes what is
// still busy. It may thus take about a minute; it stops early, with
// ctx.Err() joined, when ctx ends. Callers run it in the background after
// start-up.
func (b *RBD) Reap(ctx context.Context) ([]string, error) {
	pool, node := b.cfg.VMsPool, b.cfg.Node
	names, err := b.c.ListImages(ctx, pool)
	if err != nil {
		return nil, err
	}
	var pending []string
	for _, n := range names {
		if ceph.StagedBy(n, node) {
			pending = append(pending, n)
		}
	}
	retries, interval := b.reapRetries, b.reapInterval
	if retries == 0 {
		retries = 12
	}
	if interval <= 0 {
		interval = 5 * time.Second
	}
	var reaped []string
	var failed []error
	for round := 0; len(pending) > 0; round++ {
		last := round >= retries
		var busy []string
		for _, n := range pending {
			// One attempt each round, so that one busy image does not hold
			// up the others; the last round trashes what is still busy.
			err := b.c.Remove(ctx, pool, n, ceph.RemoveOptions{Retries: -1, TrashAsLastResort: last})
			switch {
			case err == nil:
				b.log.InfoContext(ctx, "reaped temporary image", "image", n, "round", round)
				reaped = append(reaped, n)
			case errors.Is(err, errs.ErrBusy) && !last:
				busy = append(busy, n)
			default:
				failed = append(failed, err)
			}
		}
		pending = busy
		if len(pending) == 0 {
			break
		}
		if err := sleepCtx(ctx, interval); err != nil {
			failed = append(failed, fmt.Errorf("reap of %v in %s stopped: %w", pending, pool, err))
			break
		}
	}
	// Trashed temporaries of earlier runs (or of this one's last round):
	// nothing else ever purges them. One that is still watched stays for the
	// next start.
	if ctx.Err() == nil {
		if err := b.c.TrashPurgeMatching(ctx, pool, func(n string) bool { return ceph.StagedBy(n, node) }); err != nil {
			failed = append(failed, err)
		}
	}
	return reaped, errors.Join(failed...)
}
