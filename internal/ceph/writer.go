package ceph

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"

	"github.com/ceph/go-ceph/rados"
	"github.com/ceph/go-ceph/rbd"

	"github.com/cowdisk/cowdisk/internal/errs"
)

// ImageWriter writes a new image straight into the name it is given: the
// caller's staged name (Stage, TempName), which the caller publishes once
// the image is complete. Writing under a second temporary of its own would
// only nest names and cost a rename. WriteAt is safe for concurrent use:
// librbd serialises requests on one image handle itself, and Grow excludes
// writers.
type ImageWriter struct {
	c          *Cluster // owns the background cleanup
	io         *rados.IOContext
	img        *rbd.Image
	pool, name string

	mu       sync.RWMutex // WriteAt holds it shared, resizing exclusively
	size     uint64
	closed   bool
	written  atomic.Uint64
	finished atomic.Bool // Commit or Abort has run
}

// OpenWriter creates pool/name (never over an existing image: errs.ErrExists)
// with size bytes and opens it for writing.
func (c *Cluster) OpenWriter(ctx context.Context, pool, name string, size uint64, o ImageOptions) (*ImageWriter, error) {
	if err := c.CreateImage(ctx, pool, name, size, o); err != nil {
		return nil, err
	}
	io, err := c.ioctx(ctx, pool)
	if err == nil {
		var img *rbd.Image
		if img, err = openImage(io, pool, name, "", false); err == nil {
			return &ImageWriter{c: c, io: io, img: img, pool: pool, name: name, size: size}, nil
		}
		io.Destroy()
	}
	// Context is not reused: the new image must go even if ctx ended.
	return nil, errors.Join(err, c.Remove(context.WithoutCancel(ctx), pool, name, RemoveOptions{Retries: -1}))
}

// Written counts the bytes actually sent to the cluster (zeros skipped).
func (w *ImageWriter) Written() uint64 { return w.written.Load() }

// Size is the current size of the image.
func (w *ImageWriter) Size() uint64 {
	w.mu.RLock()
	defer w.mu.RUnlock()
	return w.size
}

// WriteAt writes p at off. All-zero parts of p (in 4 KiB blocks) are
// skipped: the new image reads zeros there already, and an object that is
// never written takes no space. Writing past Size is errs.ErrInvalid; Grow
// first.
func (w *ImageWriter) WriteAt(p []byte, off int64) (int, error) {
	runs := dataRuns(p)
	if len(runs) == 0 {
		return len(p), nil
	}
	w.mu.RLock()
	defer w.mu.RUnlock()
	if w.closed {
		return 0, fmt.Errorf("ceph: write to %s after commit or abort: %w", w.spec(), errs.ErrInvalid)
	}
	if off < 0 || uint64(off)+uint64(len(p)) > w.size {
		return 0, fmt.Errorf("ceph: write [%d,+%d) past the end (%d) of %s: %w", off, len(p), w.size, w.spec(), errs.ErrInvalid)
	}
	for _, r := range runs {
		release := gate.enter(imageKey(w.pool, w.name)) // see openMu
		n, err := w.img.WriteAt(p[r.start:r.end], off+int64(r.start))
		release()
		w.written.Add(uint64(n))
		if err != nil {
			return r.start + n, translate(err, fmt.Sprintf("write %d bytes at %d to", r.end-r.start, off+int64(r.start)), w.spec())
		}
	}
	return len(p), nil
}

// Grow makes the image at least size bytes long.
func (w *ImageWriter) Grow(size uint64) error {
	return w.resize(size, false)
}

// Truncate sets the image size exactly, shrinking if needed: an import of
// unknown length grows ahead of the data and trims at the end.
func (w *ImageWriter) Truncate(size uint64) error {
	return w.resize(size, true)
}

func (w *ImageWriter) resize(size uint64, shrink bool) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if size == w.size || (size < w.size && !shrink) {
		return nil
	}
	release := gate.enter(imageKey(w.pool, w.name))
	err := w.img.Resize(size)
	release()
	if err != nil {
		return translate(err, fmt.Sprintf("resize to %d bytes", size), w.spec())
	}
	w.size = size
	return nil
}

// Commit flushes and closes the image. If that fails the image is removed:
// a failed Commit leaves nothing behind.
func (w *ImageWriter) Commit(ctx context.Context) error {
	if !w.finished.CompareAndSwap(false, true) {
		return fmt.Errorf("ceph: commit of %s after commit or abort: %w", w.spec(), errs.ErrInvalid)
	}
	err := ctx.Err()
	if err == nil {
		release := gate.enter(imageKey(w.pool, w.name))
		err = translate(w.img.Flush(), "flush", w.spec())
		release()
	}
	if err != nil && Stalled(err) {
		// The cluster is not answering: closing the handle may flush
		// again, and removing the image would block for the OSD timeout
		// too (cgo ignores ctx). Answer now and clean up behind; a
		// leftover is the caller's recorded name, which its reaper removes.
		w.c.background(func() {
			if aerr := errors.Join(w.close(), w.removeImage()); aerr != nil {
				slog.Warn("ceph: background removal of an unfinished image failed; the reaper will take it", "image", w.spec(), "err", aerr)
			}
			w.io.Destroy()
		})
		return err
	}
	if cerr := w.close(); err == nil {
		err = cerr
	}
	if err != nil {
		err = errors.Join(err, w.removeImage())
	}
	w.io.Destroy()
	return err
}

// Abort removes the image. After Commit it does nothing.
// It does not stop on ctx: leaving the image behind is worse.
func (w *ImageWriter) Abort(context.Context) error {
	if !w.finished.CompareAndSwap(false, true) {
		return nil
	}
	err := errors.Join(w.close(), w.removeImage())
	w.io.Destroy()
	return err
}

// Discard aborts the writer after a failed write or conversion with cause:
// now, or in the background when cause is a stall (see Cluster.Discard).
func (w *ImageWriter) Discard(cause error) {
	w.c.afterFailure(context.Background(), cause, w.spec(), func() {
		if err := w.Abort(context.Background()); err != nil {
			slog.Warn("ceph: removal of a temporary image failed; the reaper will take it",
				"image", w.spec(), "err", err)
		}
	})
}

// close closes the image handle once; later writes fail cleanly.
func (w *ImageWriter) close() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		return nil
	}
	w.closed = true
	return translate(closeImage(imageKey(w.pool, w.name), w.img), "close", w.spec())
}

func (w *ImageWriter) removeImage() error {
	err := removeImage(w.io, w.pool, w.name)
	if isNotFound(err) {
		return nil
	}
	return translate(err, "remove unfinished", w.spec())
}

func (w *ImageWriter) spec() string { return imageSpec(w.pool, w.name) }
