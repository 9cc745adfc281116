package convert

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"sync/atomic"

	"github.com/lima-vm/go-qcow2reader/convert"
	"github.com/lima-vm/go-qcow2reader/image"
	"github.com/lima-vm/go-qcow2reader/image/qcow2"
	qlog "github.com/lima-vm/go-qcow2reader/log"

	"github.com/cowdisk/cowdisk/internal/errs"
	"github.com/cowdisk/cowdisk/internal/imageformat"
)

// go-qcow2reader prints warnings about its own experimental features (extended
// L2 entries) and the dirty bit with the standard logger; the inspector has
// already judged the image, so they are debug output of cowdisk's logger.
func init() {
	qlog.SetWarnFunc(func(s string) { slog.Debug("go-qcow2reader", "warning", s) })
}

// QCOW2ToRaw converts a qcow2 image read through src (a local file, an RBD
// image reader, anything positional) to raw in dst, without a temporary
// copy. src's size comes from a Size() or Stat() method. The header is
// inspected first, here, because go-qcow2reader would otherwise open a
// backing file named in it.
func QCOW2ToRaw(ctx context.Context, src io.ReaderAt, dst WriterAt, o Options) (uint64, error) {
	size, err := readerSize(src)
	if err != nil {
		return 0, err
	}
	info, err := imageformat.InspectReaderAt(src, size, o.Limits)
	if err != nil {
		return 0, fmt.Errorf("convert qcow2: %w", err)
	}
	if info.Format != imageformat.QCOW2 {
		return 0, fmt.Errorf("convert qcow2: %w: the image is %s", errs.ErrFormatMismatch, info.Format)
	}
	return qcow2ToRaw(ctx, src, info, dst, o.withDefaults())
}

// qcow2ToRaw converts an image already inspected as a safe qcow2.
func qcow2ToRaw(ctx context.Context, src io.ReaderAt, info imageformat.Info, dst io.WriterAt, o Options) (uint64, error) {
	img, err := qcow2.Open(ctxReaderAt{ctx: ctx, r: src}, noBackingFiles)
	if ctx.Err() != nil { // the library does not wrap its reader's errors
		return 0, fmt.Errorf("convert qcow2: %w", ctx.Err())
	}
	if err != nil {
		return 0, fmt.Errorf("convert qcow2: %w: %w", errs.ErrUnsafeImage, err)
	}
	defer img.Close()
	if err := img.Readable(); err != nil {
		return 0, fmt.Errorf("convert qcow2: %w: %w", errs.ErrUnsafeImage, err)
	}
	if uint64(img.Size()) != info.VirtualSize {
		return 0, fmt.Errorf("convert qcow2: %w: virtual size %d, inspected %d", errs.ErrUnsafeImage, img.Size(), info.VirtualSize)
	}
	if err := truncate(dst, img.Size()); err != nil {
		return 0, err
	}
	cw := &countingWriterAt{w: dst}
	var done progress
	err = convert.Convert(cw, img, convert.Options{
		BufferSize:  o.ChunkSize,
		SegmentSize: int64(o.ChunkSize) * 8,
		Workers:     o.Workers,
		Progress:    &done,
	})
	if ctx.Err() != nil {
		return cw.written.Load(), fmt.Errorf("convert qcow2: %w", ctx.Err())
	}
	if err != nil && !cw.failed.Load() {
		// Nothing failed on the target: the image's own tables or data
		// (corrupt, truncated) made the reader fail. That is the image
		// refused (422), not a fault of this node (500).
		return cw.written.Load(), fmt.Errorf("convert qcow2: %w: data is corrupt or truncated: %w", errs.ErrUnsafeImage, err)
	}
	if err != nil {
		return cw.written.Load(), fmt.Errorf("convert qcow2: %w", err)
	}
	if got := uint64(done.Load()); got != info.VirtualSize {
		return cw.written.Load(), fmt.Errorf("convert qcow2: %w: converted %d bytes of %d", errs.ErrUnsafeImage, got, info.VirtualSize)
	}
	return cw.written.Load(), nil
}

// noBackingFiles is the opener go-qcow2reader calls for a backing file, so
// no backing image is ever read. It is not what keeps the file from being
// opened: go-qcow2reader opens an absolute backing path itself before calling
// it, which is why every path here inspects the header first and refuses a
// backing file (a relative one cannot even be resolved: ctxReaderAt has no
// Name).
func noBackingFiles(io.ReaderAt, image.Type) (image.Image, error) {
	return nil, fmt.Errorf("%w: backing files are not followed", errs.ErrUnsafeImage)
}

// progress counts converted bytes (zero or not) to check the result size.
type progress struct{ atomic.Int64 }

func (p *progress) Update(n int64) { p.Add(n) }

func readerSize(r io.ReaderAt) (int64, error) {
	switch s := r.(type) {
	case interface{ Size() int64 }:
		return s.Size(), nil
	case interface{ Size() uint64 }:
		return int64(s.Size()), nil
	case interface{ Stat() (os.FileInfo, error) }:
		fi, err := s.Stat()
		if err != nil {
			return 0, fmt.Errorf("convert qcow2: %w", err)
		}
		return fi.Size(), nil
	}
	return 0, fmt.Errorf("convert qcow2: %w: %T has no Size or Stat method", errs.ErrInvalid, r)
}
