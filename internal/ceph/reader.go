package ceph

import (
	"context"
	"io"

	"github.com/ceph/go-ceph/rados"
	"github.com/ceph/go-ceph/rbd"
)

// ImageReader reads an image (or one of its snapshots). ReadAt is safe for
// concurrent use; Read keeps its own offset and is not.
type ImageReader struct {
	io         *rados.IOContext
	img        *rbd.Image
	pool, name string
	size       int64
	off        int64
}

// OpenReader opens pool/name (at snap, when not empty) read-only.
func (c *Cluster) OpenReader(ctx context.Context, pool, name, snap string) (*ImageReader, error) {
	io, err := c.ioctx(ctx, pool)
	if err != nil {
		return nil, err
	}
	img, err := openImage(io, pool, name, snap, true)
	if err != nil {
		io.Destroy()
		return nil, err
	}
	size, err := img.GetSize()
	if err != nil {
		_ = closeImage(imageKey(pool, name), img)
		io.Destroy()
		return nil, translate(err, "size of", imageSpec(pool, name))
	}
	return &ImageReader{io: io, img: img, pool: pool, name: name, size: int64(size)}, nil
}

// Size is the image size in bytes.
func (r *ImageReader) Size() int64 { return r.size }

// Info is Stat of the image as opened (at its snapshot, if one was named),
// read from the open image: a caller that reads and stats an image needs
// one open, not two.
func (r *ImageReader) Info() (ImageInfo, error) {
	info := ImageInfo{Pool: r.pool, Name: r.name}
	return info, translate(statImage(r.img, &info), "stat", imageSpec(r.pool, r.name))
}

// ReadAt follows io.ReaderAt: a short read at the end returns io.EOF.
func (r *ImageReader) ReadAt(p []byte, off int64) (int, error) {
	if off >= r.size {
		return 0, io.EOF
	}
	want := p
	if rest := r.size - off; int64(len(p)) > rest {
		want = p[:rest]
	}
	release := gate.enter(imageKey(r.pool, r.name)) // see openMu
	n, err := r.img.ReadAt(want, off)
	release()
	if err != nil && err != io.EOF {
		return n, translate(err, "read", imageSpec(r.pool, r.name))
	}
	if n < len(p) {
		return n, io.EOF
	}
	return n, nil
}

// Read reads sequentially from the current offset.
func (r *ImageReader) Read(p []byte) (int, error) {
	n, err := r.ReadAt(p, r.off)
	r.off += int64(n)
	if err == io.EOF && n > 0 {
		err = nil
	}
	return n, err
}

// Close releases the image and its I/O context.
func (r *ImageReader) Close() error {
	err := closeImage(imageKey(r.pool, r.name), r.img)
	r.io.Destroy()
	return translate(err, "close", imageSpec(r.pool, r.name))
}
