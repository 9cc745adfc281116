package ceph

import (
	"context"
	"fmt"

	"github.com/ceph/go-ceph/rados"
	"github.com/ceph/go-ceph/rbd"

	"github.com/cowdisk/cowdisk/internal/errs"
)

// ImageInfo describes one image.
type ImageInfo struct {
	Pool, Name string
	Size       uint64
	ObjectSize uint64
	Features   uint64
	Parent     *SnapRef // nil when the image is not a clone
	Overlap    uint64   // bytes still shared with the parent
}

// SnapRef names a snapshot of an image.
type SnapRef struct{ Pool, Image, Snap string }

func (s SnapRef) String() string { return s.Pool + "/" + s.Image + "@" + s.Snap }

// ImageOptions are the creation options of a new image or clone.
type ImageOptions struct {
	Features        uint64 // zero: layering only
	ObjectSizeOrder int    // zero: 22 (4 MiB objects)
}

// FeatureLayering is the feature every clone parent and child needs.
const FeatureLayering = rbd.FeatureLayering

const defaultOrder = 22

func (o ImageOptions) withDefaults() ImageOptions {
	if o.Features == 0 {
		// Layering only: exclusive-lock and friends make every writer
		// fight over a lock, which parallel import and VMs do not need.
		o.Features = rbd.FeatureLayering
	}
	if o.ObjectSizeOrder == 0 {
		o.ObjectSizeOrder = defaultOrder
	}
	return o
}

type imageOption struct {
	k rbd.ImageOption
	v uint64
}

// rbdOptions builds librbd image options; the caller must Destroy them.
// A clone with no explicit object size inherits its parent's: librbd
// refuses (EINVAL) a child whose objects are smaller than the parent's, and
// Glance's store writes 8 MiB objects while our default is 4 MiB.
func (o ImageOptions) rbdOptions(clone bool) (*rbd.ImageOptions, error) {
	inherit := clone && o.ObjectSizeOrder == 0
	o = o.withDefaults()
	opts := []imageOption{{rbd.ImageOptionFormat, 2}, {rbd.ImageOptionFeatures, o.Features}}
	if !inherit {
		opts = append(opts, imageOption{rbd.ImageOptionOrder, uint64(o.ObjectSizeOrder)})
	}
	ro := rbd.NewRbdImageOptions()
	for _, kv := range opts {
		if err := ro.SetUint64(kv.k, kv.v); err != nil {
			ro.Destroy()
			return nil, err
		}
	}
	return ro, nil
}

// withImage opens pool/name (at snap, if not empty) and runs fn on it. On
// an image not known safe fn runs under the gate too (see openMu).
func (c *Cluster) withImage(ctx context.Context, pool, name, snap string, readOnly bool, fn func(*rbd.Image) error) error {
	return c.withPool(ctx, pool, func(io *rados.IOContext) error {
		key := imageKey(pool, name)
		img, err := openImage(io, pool, name, snap, readOnly)
		if err != nil {
			return err
		}
		defer closeImage(key, img)
		defer gate.enter(key)() // released before the close takes it again
		return fn(img)
	})
}

func openImage(io *rados.IOContext, pool, name, snap string, readOnly bool) (*rbd.Image, error) {
	key := imageKey(pool, name)
	img, err := openGated(io, key, name, snap, readOnly)
	if err != nil {
		what := imageSpec(pool, name)
		if snap != "" {
			what = snapSpec(pool, name, snap)
		}
		return nil, translate(err, "open", what)
	}
	gate.learnOpened(key, img)
	return img, nil
}

// openGated opens name under the gate. An image not known safe that does
// not exist is answered without librbd (absent).
func openGated(io *rados.IOContext, key, name, snap string, readOnly bool) (*rbd.Image, error) {
	if !gate.knownSafe([]string{key}) && absent(io, name) {
		return nil, rados.ErrNotFound
	}
	defer gate.enter(key)()
	if readOnly {
		return rbd.OpenImageReadOnly(io, name, snapOrNone(snap))
	}
	return rbd.OpenImage(io, name, snapOrNone(snap))
}

func snapOrNone(snap string) string {
	if snap == "" {
		return rbd.NoSnapshot
	}
	return snap
}

// ListImages lists the image names in pool, temporary ones included.
func (c *Cluster) ListImages(ctx context.Context, pool string) ([]string, error) {
	var names []string
	err := c.withPool(ctx, pool, func(io *rados.IOContext) error {
		var err error
		names, err = rbd.GetImageNames(io)
		return translate(err, "list images of", poolSpec(pool))
	})
	return names, err
}

// Exists reports whether pool/name (at snap, when snap is not empty)
// exists. It opens the image read-only so that it never takes a lock or
// disturbs a running VM. A missing pool is an error, not "false".
func (c *Cluster) Exists(ctx context.Context, pool, name, snap string) (bool, error) {
	var found bool
	// The pool is opened first and apart, so that a missing pool is an
	// error while a missing image or snapshot is a plain "false".
	err := c.withPool(ctx, pool, func(io *rados.IOContext) error {
		img, err := openImage(io, pool, name, snap, true)
		if isNotFound(err) {
			return nil
		}
		if err != nil {
			return err
		}
		found = true
		return closeImage(imageKey(pool, name), img)
	})
	return found, err
}

// Stat describes pool/name.
func (c *Cluster) Stat(ctx context.Context, pool, name string) (ImageInfo, error) {
	info := ImageInfo{Pool: pool, Name: name}
	err := c.withImage(ctx, pool, name, "", true, func(img *rbd.Image) error {
		return translate(statImage(img, &info), "stat", imageSpec(pool, name))
	})
	return info, err
}

func statImage(img *rbd.Image, info *ImageInfo) error {
	st, err := img.Stat()
	if err != nil {
		return err
	}
	info.Size, info.ObjectSize = st.Size, st.Obj_size
	if info.Features, err = img.GetFeatures(); err != nil {
		return err
	}
	parent, err := img.GetParent()
	if isNotFound(err) {
		return nil // not a clone
	}
	if err != nil {
		return err
	}
	info.Parent = &SnapRef{Pool: parent.Image.PoolName, Image: parent.Image.ImageName, Snap: parent.Snap.SnapName}
	info.Overlap, err = img.GetOverlap()
	return err
}

// Size is the provisioned size of pool/name in bytes.
func (c *Cluster) Size(ctx context.Context, pool, name string) (uint64, error) {
	var size uint64
	err := c.withImage(ctx, pool, name, "", true, func(img *rbd.Image) error {
		var err error
		size, err = img.GetSize()
		return translate(err, "size of", imageSpec(pool, name))
	})
	return size, err
}

// UsedBytes is the number of bytes allocated in pool/name itself (not in
// its parent), found by iterating its allocated extents. Without the
// fast-diff feature librbd reports each existing object from its start to
// its last written byte, so this is exact for whole objects and an upper
// bound for partly written ones.
func (c *Cluster) UsedBytes(ctx context.Context, pool, name string) (uint64, error) {
	var used uint64
	err := c.withImage(ctx, pool, name, "", true, func(img *rbd.Image) error {
		size, err := img.GetSize()
		if err != nil {
			return translate(err, "size of", imageSpec(pool, name))
		}
		err = img.DiffIterate(rbd.DiffIterateConfig{
			Length: size, IncludeParent: rbd.ExcludeParent, WholeObject: rbd.DisableWholeObject,
			Callback: func(_, length uint64, exists int, _ interface{}) int {
				if exists != 0 {
					used += length
				}
				return 0
			},
		})
		return translate(err, "list extents of", imageSpec(pool, name))
	})
	return used, err
}

// CreateImage creates an empty format-2 image. It never overwrites.
func (c *Cluster) CreateImage(ctx context.Context, pool, name string, size uint64, o ImageOptions) error {
	return c.withPool(ctx, pool, func(io *rados.IOContext) error {
		ro, err := o.rbdOptions(false)
		if err != nil {
			return translate(err, "options for", imageSpec(pool, name))
		}
		defer ro.Destroy()
		key := imageKey(pool, name)
		gate.forget(key)
		err = rbd.CreateImage(io, name, size, ro)
		if err == nil {
			gate.learn(key, o.withDefaults().Features)
		}
		return translate(err, "create", imageSpec(pool, name))
	})
}

// Resize changes the size of pool/name. Shrinking destroys data at the end
// of the image, so it is refused unless allowShrink is set.
func (c *Cluster) Resize(ctx context.Context, pool, name string, size uint64, allowShrink bool) error {
	return c.withImage(ctx, pool, name, "", false, func(img *rbd.Image) error {
		cur, err := img.GetSize()
		if err != nil {
			return translate(err, "size of", imageSpec(pool, name))
		}
		if size < cur && !allowShrink {
			return fmt.Errorf("ceph: resize %s from %d to %d bytes would shrink it: %w",
				imageSpec(pool, name), cur, size, errs.ErrInvalid)
		}
		if size == cur {
			return nil
		}
		return translate(img.Resize(size), fmt.Sprintf("resize to %d bytes", size), imageSpec(pool, name))
	})
}

// Rename renames pool/from to pool/to; ErrExists if to is taken.
func (c *Cluster) Rename(ctx context.Context, pool, from, to string) error {
	return c.withPool(ctx, pool, func(io *rados.IOContext) error {
		err := rbd.GetImage(io, from).Rename(to)
		if err == nil {
			gate.renamed(imageKey(pool, from), imageKey(pool, to))
		}
		return translate(err, "rename to "+to, imageSpec(pool, from))
	})
}
