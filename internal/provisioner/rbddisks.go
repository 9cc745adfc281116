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
	info, err := b.c.Stat(ctx, b.cfg.VMsPool, diskImageName(instanceID, name))
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

// Reap removes the temporary names this node left in the vms pool.
func (b *RBD) Reap(ctx context.Context) ([]string, error) {
	names, err := b.c.ListImages(ctx, b.cfg.VMsPool)
	if err != nil {
		return nil, err
	}
	var reaped []string
	for _, n := range names {
		if !strings.Contains(n, tempMarker(b.cfg.Node)) {
			continue
		}
		if err := b.c.Remove(ctx, b.cfg.VMsPool, n, ceph.RemoveOptions{Retries: 1, TrashAsLastResort: true}); err != nil {
			return reaped, err
		}
		b.log.InfoContext(ctx, "reaped temporary image", "image", n)
		reaped = append(reaped, n)
	}
	return reaped, nil
}
