package ceph

import (
	"context"
	"errors"
	"fmt"
	"syscall"

	"github.com/ceph/go-ceph/rados"
	"github.com/ceph/go-ceph/rbd"
)

// Clone creates pool/name as a copy-on-write clone of parent. It uses clone
// format 2, which needs no snapshot protection and lets the parent snapshot
// be removed into the trash while children exist. Only when the cluster
// refuses format 2 (OSDs older than mimic) does it protect the snapshot and
// make a format-1 clone.
//
// The format is set explicitly: librbd's "auto" picks format 1 whenever
// require_min_compat_client is below mimic, which is the default even on a
// fresh pacific cluster, so "auto" would protect snapshots for nothing.
//
// Clone never overwrites: a taken name is errs.ErrExists. If anything fails
// after the child was created (including ctx ending during the call), the
// child is removed again, so a failed Clone leaves nothing behind.
func (c *Cluster) Clone(ctx context.Context, parent SnapRef, pool, name string, o ImageOptions) error {
	pio, err := c.ioctx(ctx, parent.Pool)
	if err != nil {
		return err
	}
	defer pio.Destroy()
	cio, err := c.ioctx(ctx, pool)
	if err != nil {
		return err
	}
	defer cio.Destroy()

	what := fmt.Sprintf("%s from %s", imageSpec(pool, name), parent)
	err = clone(pio, parent, cio, pool, name, o, 2)
	if errno(err, syscall.EOPNOTSUPP) || errno(err, syscall.ENOSYS) {
		err = cloneV1(pio, parent, cio, pool, name, o)
	}
	if err != nil {
		if mayLeaveChild(err) {
			removeStrayChild(cio, parent, pool, name)
		}
		return translate(err, "clone", what)
	}
	if err := ctx.Err(); err != nil {
		// The caller gave up and will not record this child: take it back.
		return errors.Join(fmt.Errorf("ceph: clone %s: %w", what, err), removeChild(cio, pool, name))
	}
	return nil
}

func clone(pio *rados.IOContext, parent SnapRef, cio *rados.IOContext, pool, name string, o ImageOptions, format uint64) error {
	ro, err := o.rbdOptions(true)
	if err != nil {
		return err
	}
	defer ro.Destroy()
	if err := ro.SetUint64(rbd.ImageOptionCloneFormat, format); err != nil {
		return err
	}
	child, pkey := imageKey(pool, name), imageKey(parent.Pool, parent.Image)
	gate.forget(child)
	release := gate.enterClone(pkey, o.withDefaults().Features)
	err = rbd.CloneImage(pio, parent.Image, parent.Snap, cio, name, ro)
	release()
	if err == nil {
		gate.learnClone(child, pkey, o.withDefaults().Features)
	}
	return err
}

// cloneV1 is the fallback for clusters without clone format 2.
func cloneV1(pio *rados.IOContext, parent SnapRef, cio *rados.IOContext, pool, name string, o ImageOptions) error {
	release := gate.enter(imageKey(parent.Pool, parent.Image))
	img, err := rbd.OpenImage(pio, parent.Image, rbd.NoSnapshot)
	release()
	if err != nil {
		return err
	}
	s := img.GetSnapshot(parent.Snap)
	on, err := s.IsProtected()
	if err == nil && !on {
		err = s.Protect()
	}
	if cerr := closeImage(imageKey(parent.Pool, parent.Image), img); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	return clone(pio, parent, cio, pool, name, o, 1)
}

// mayLeaveChild tells the errors after which librbd may have created the
// child: not those it reports while validating, before anything is made.
func mayLeaveChild(err error) bool {
	for _, e := range []syscall.Errno{syscall.EEXIST, syscall.ENOENT, syscall.EINVAL, syscall.EPERM, syscall.EACCES} {
		if errno(err, e) {
			return false
		}
	}
	return true
}

// removeStrayChild removes name after a failed clone, but only if it is a
// clone of parent: librbd may leave a half-made child behind on a timeout,
// while an image with another parent (or none) belongs to someone else.
func removeStrayChild(cio *rados.IOContext, parent SnapRef, pool, name string) {
	release := gate.lock() // a half-made child: its features are not known
	img, err := rbd.OpenImageReadOnly(cio, name, rbd.NoSnapshot)
	release()
	if err != nil {
		return
	}
	p, err := img.GetParent()
	_ = closeImage(imageKey(pool, name), img)
	if err != nil || p.Image.ImageName != parent.Image || p.Snap.SnapName != parent.Snap || p.Image.PoolName != parent.Pool {
		return
	}
	_ = removeImage(cio, pool, name)
}

func removeChild(cio *rados.IOContext, pool, name string) error {
	return translate(removeImage(cio, pool, name), "remove new clone", imageSpec(pool, name))
}
