package ceph

import (
	"context"
	"fmt"

	"github.com/ceph/go-ceph/rbd"

	"github.com/cowdisk/cowdisk/internal/errs"
)

// Child is one clone of a snapshot. InTrash is true for a child that was
// moved to the trash but still holds its link to the parent.
type Child struct {
	Pool, Name string
	InTrash    bool
}

// maxCloneDepth bounds the parent walk, so a corrupt or cyclic chain can
// not loop forever.
const maxCloneDepth = 64

// withSnap runs fn on snapshot snap of pool/image, opened read-write
// because protect, unprotect and remove change the image header.
func (c *Cluster) withSnap(ctx context.Context, pool, image, snap, op string, fn func(*rbd.Snapshot) error) error {
	return c.withImage(ctx, pool, image, "", false, func(img *rbd.Image) error {
		return translate(fn(img.GetSnapshot(snap)), op, snapSpec(pool, image, snap))
	})
}

// CreateSnapshot creates pool/image@snap.
func (c *Cluster) CreateSnapshot(ctx context.Context, pool, image, snap string) error {
	return c.withImage(ctx, pool, image, "", false, func(img *rbd.Image) error {
		_, err := img.CreateSnapshot(snap)
		return translate(err, "create", snapSpec(pool, image, snap))
	})
}

// ProtectSnapshot protects pool/image@snap; only clone format 1 needs it.
// Protecting a protected snapshot is not an error.
func (c *Cluster) ProtectSnapshot(ctx context.Context, pool, image, snap string) error {
	return c.withSnap(ctx, pool, image, snap, "protect", func(s *rbd.Snapshot) error {
		if on, err := s.IsProtected(); err != nil || on {
			return err
		}
		return s.Protect()
	})
}

// UnprotectSnapshot unprotects pool/image@snap. An unprotected snapshot is
// not an error; one that still has format-1 children is errs.ErrInUse.
func (c *Cluster) UnprotectSnapshot(ctx context.Context, pool, image, snap string) error {
	return c.withSnap(ctx, pool, image, snap, "unprotect", unprotect)
}

func unprotect(s *rbd.Snapshot) error {
	on, err := s.IsProtected()
	if err != nil || !on {
		return err
	}
	if err := s.Unprotect(); err != nil {
		// EBUSY here means "has children", which no retry fixes.
		if errno(err, ebusy) {
			return fmt.Errorf("snapshot has children: %w (%v)", errs.ErrInUse, err)
		}
		return err
	}
	return nil
}

// RemoveSnapshot removes pool/image@snap. With force it unprotects first.
// A snapshot with format-2 children is moved to the snapshot trash by
// librbd and disappears once its last child is gone.
func (c *Cluster) RemoveSnapshot(ctx context.Context, pool, image, snap string, force bool) error {
	return c.withSnap(ctx, pool, image, snap, "remove", func(s *rbd.Snapshot) error {
		return removeSnap(s, force)
	})
}

func removeSnap(s *rbd.Snapshot, force bool) error {
	if force {
		if err := unprotect(s); err != nil {
			return err
		}
	}
	return s.Remove()
}

// ListSnapshots lists the user snapshots of pool/image.
func (c *Cluster) ListSnapshots(ctx context.Context, pool, image string) ([]string, error) {
	var names []string
	err := c.withImage(ctx, pool, image, "", true, func(img *rbd.Image) error {
		snaps, err := img.GetSnapshotNames()
		for _, s := range snaps {
			names = append(names, s.Name)
		}
		return translate(err, "list snapshots of", imageSpec(pool, image))
	})
	return names, err
}

// Children lists the clones of pool/image@snap, those in the trash too.
func (c *Cluster) Children(ctx context.Context, pool, image, snap string) ([]Child, error) {
	var out []Child
	err := c.withImage(ctx, pool, image, snap, true, func(img *rbd.Image) error {
		specs, err := img.ListChildrenAttributes()
		for _, s := range specs {
			out = append(out, Child{Pool: s.PoolName, Name: s.ImageName, InTrash: s.Trash})
		}
		return translate(err, "list children of", snapSpec(pool, image, snap))
	})
	return out, err
}

// CloneDepth is the number of parents above pool/name: 0 for an image that
// is not a clone, 1 for a clone of a plain image, and so on. Deep chains
// slow every read that misses the child, so callers flatten above a limit.
func (c *Cluster) CloneDepth(ctx context.Context, pool, name string) (int, error) {
	for depth := 0; depth <= maxCloneDepth; depth++ {
		info, err := c.Stat(ctx, pool, name)
		if err != nil {
			return 0, err
		}
		if info.Parent == nil {
			return depth, nil
		}
		pool, name = info.Parent.Pool, info.Parent.Image
	}
	return 0, fmt.Errorf("ceph: clone chain of %s is deeper than %d: %w", imageSpec(pool, name), maxCloneDepth, errs.ErrInvalid)
}

// Flatten copies all parent data into pool/name and detaches it from its
// parent. It can take long for a big image; librbd cannot be interrupted,
// so ctx is only checked before it starts.
func (c *Cluster) Flatten(ctx context.Context, pool, name string) error {
	return c.withImage(ctx, pool, name, "", false, func(img *rbd.Image) error {
		return translate(img.Flatten(), "flatten", imageSpec(pool, name))
	})
}
