package provisioner

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

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
	if err := b.checkComplete(ctx, diskImageName(instanceID, name), meta); err != nil {
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

// checkComplete answers errs.ErrNotFound for a disk this node is making, or
// whose create a crash cut short: its intent is recorded and it has no
// completion marker. Such a disk is not ready; a repeat create or the
// reaper removes it. A disk without the marker that was never recorded is
// one made before the marker existed (staged and renamed into place), and
// counts; only those cost the journal look-up.
func (b *RBD) checkComplete(ctx context.Context, image string, meta map[string]string) error {
	if meta[ceph.MetaComplete] != "" {
		return nil
	}
	making, err := b.c.Recorded(ctx, b.cfg.VMsPool, b.cfg.Node, image)
	if err != nil {
		return err
	}
	if making {
		return fmt.Errorf("disk %s/%s is not complete (being made, or cut short by a crash): %w", b.cfg.VMsPool, image, errs.ErrNotFound)
	}
	return nil
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

// Reap removes what this node's journal records and a crash left in the
// vms pool (ceph.Reap: staged bases and imports, disks whose clone was cut
// short before their completion marker, a base's publish claim still held)
// and purges them from the trash. No
// name this node did not record is touched, whatever it is called. Each
// disk intent is looked at under the disk's lock, so a create of the same
// disk meanwhile is not raced. It returns the names it removed, and every
// failure joined; it may take about a minute (watches of a killed process
// expire), so callers start it before serving and let it run in the
// background.
func (b *RBD) Reap(ctx context.Context) ([]string, error) {
	o := ceph.ReapOptions{Retries: b.reapRetries, Interval: b.reapInterval, Hold: b.disks.lock}
	return b.c.Reap(ctx, b.cfg.VMsPool, b.cfg.Node, o)
}
