package ceph

import (
	"context"
	"fmt"
	"maps"
	"strings"

	"github.com/ceph/go-ceph/rados"
	"github.com/ceph/go-ceph/rbd"

	"github.com/cowdisk/cowdisk/internal/errs"
)

// SetMetadata stores kv as image metadata of pool/name (rbd image-meta) in
// one atomic write: cls_rbd's metadata_set, the call librbd makes per key,
// given every key at once on the image header. Going through librbd would
// open the image (header, exclusive lock, object map: the costliest part of
// a create, measured 16-29 ms) and write key by key, so a crash could leave
// some keys without the others. Metadata lives in the image header, so it
// follows the image through rename, resize and flatten.
func (c *Cluster) SetMetadata(ctx context.Context, pool, name string, kv map[string]string) error {
	spec := imageSpec(pool, name)
	for k, v := range kv {
		// librbd hands keys and values out as C strings.
		if k == "" || strings.ContainsRune(k+v, 0) {
			return fmt.Errorf("ceph: metadata %.40q of %s: want a non-empty key, no NUL bytes: %w", k, spec, errs.ErrInvalid)
		}
	}
	return c.withPool(ctx, pool, func(io *rados.IOContext) error {
		id, err := imageID(io, name)
		if err != nil {
			return translate(err, "look up the id of", spec)
		}
		op := rados.CreateWriteOp()
		defer op.Release()
		op.AssertExists() // never create a header for an image removed meanwhile
		op.Exec("rbd", "metadata_set", encodeStringMap(kv))
		return translate(op.Operate(io, "rbd_header."+id, rados.OperationNoFlag), "set metadata of", spec)
	})
}

// Complete finishes an image made in place (after Intent): it grows the
// image to grow bytes when grow is not zero, then writes kv and MetaComplete
// in one atomic write (SetMetadata), so an image either counts, owner and
// all, or is a crashed create its owner's reaper removes.
func (c *Cluster) Complete(ctx context.Context, pool, name string, grow uint64, kv map[string]string) error {
	if grow > 0 {
		if err := c.Resize(ctx, pool, name, grow, false); err != nil {
			return err
		}
	}
	kv = maps.Clone(kv)
	if kv == nil {
		kv = map[string]string{}
	}
	kv[MetaComplete] = "1"
	return c.SetMetadata(ctx, pool, name, kv)
}

// imageID reads the id of image name (cls_rbd get_id on its rbd_id object).
func imageID(io *rados.IOContext, name string) (string, error) {
	op := rados.CreateReadOp()
	defer op.Release()
	op.AssertExists()
	step := op.Exec("rbd", "get_id", nil)
	if err := op.Operate(io, "rbd_id."+name, rados.OperationNoFlag); err != nil {
		return "", err
	}
	out, err := step.Bytes()
	if err != nil {
		return "", err
	}
	id, rest, ok := decodeString(out)
	if !ok || len(rest) != 0 || id == "" {
		return "", fmt.Errorf("undecodable id %q: %w", out, errs.ErrInvalid)
	}
	return id, nil
}

// Metadata returns every metadata key of pool/name (librbd's own "conf_*"
// overrides included; callers pick their keys). An image without metadata
// gives an empty map.
func (c *Cluster) Metadata(ctx context.Context, pool, name string) (map[string]string, error) {
	var kv map[string]string
	err := c.withImage(ctx, pool, name, "", true, func(img *rbd.Image) error {
		var err error
		kv, err = img.ListMetadata()
		return translate(err, "list metadata of", imageSpec(pool, name))
	})
	if kv == nil && err == nil {
		kv = map[string]string{}
	}
	return kv, err
}

// StatMetadata is Stat and Metadata with one open of the image: reading a
// disk's owner on every Get would otherwise double the opens (measured
// ~4-8 ms each on the loaded dev cluster).
func (c *Cluster) StatMetadata(ctx context.Context, pool, name string) (ImageInfo, map[string]string, error) {
	info := ImageInfo{Pool: pool, Name: name}
	var kv map[string]string
	err := c.withImage(ctx, pool, name, "", true, func(img *rbd.Image) error {
		if err := statImage(img, &info); err != nil {
			return translate(err, "stat", imageSpec(pool, name))
		}
		var err error
		kv, err = img.ListMetadata()
		return translate(err, "list metadata of", imageSpec(pool, name))
	})
	if kv == nil && err == nil {
		kv = map[string]string{}
	}
	return info, kv, err
}
