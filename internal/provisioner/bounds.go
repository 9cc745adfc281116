package provisioner

import (
	"fmt"
	"io"
	"sync/atomic"
	"time"

	"github.com/cowdisk/cowdisk/internal/errs"
	"github.com/cowdisk/cowdisk/internal/imageformat"
)

// Bounds limit what one request, or one image service answer, can make a
// node do. Zero fields take the defaults below.
type Bounds struct {
	// MaxDiskSize bounds a disk's size on create and resize, and an image's
	// virtual size (the inspector refuses larger ones).
	MaxDiskSize uint64
	// MaxExpansion bounds the bytes a conversion may allocate, as a factor
	// of the image's stored size: a small qcow2 of a huge, fully written
	// disk (a decompression bomb) is stopped while it is written. Negative:
	// no bound (the operator allows any expansion).
	MaxExpansion float64
	// StallTimeout ends a download that sends no byte for this long;
	// FetchDeadline ends one that has not finished in this long.
	StallTimeout, FetchDeadline time.Duration
}

// Defaults for zero Bounds fields.
const (
	DefaultMaxDiskSize   = 16 << 40
	DefaultMaxExpansion  = 32
	DefaultStallTimeout  = time.Minute
	DefaultFetchDeadline = time.Hour
)

func (b Bounds) withDefaults() Bounds {
	if b.MaxDiskSize == 0 {
		b.MaxDiskSize = DefaultMaxDiskSize
	}
	if b.MaxExpansion == 0 {
		b.MaxExpansion = DefaultMaxExpansion
	}
	if b.StallTimeout <= 0 {
		b.StallTimeout = DefaultStallTimeout
	}
	if b.FetchDeadline <= 0 {
		b.FetchDeadline = DefaultFetchDeadline
	}
	return b
}

// limits narrows the inspector's virtual size bound to the disk bound: an
// image no disk may hold is refused as soon as its header is read.
func (b Bounds) limits(l imageformat.Limits) imageformat.Limits {
	if l.MaxVirtualSize == 0 || l.MaxVirtualSize > b.MaxDiskSize {
		l.MaxVirtualSize = b.MaxDiskSize
	}
	return l
}

// checkSize refuses a size over MaxDiskSize; what names the object.
func (b Bounds) checkSize(what string, size uint64) error {
	if size > b.MaxDiskSize {
		return fmt.Errorf("%s: %d bytes is over the node's limit of %d (--max-disk-size): %w", what, size, b.MaxDiskSize, errs.ErrInvalid)
	}
	return nil
}

// checkImage refuses an image no disk on this node may hold, by its
// declared stored or virtual size (errs.ErrRefused: the image, not the
// request, is at fault). The stored size also bounds its download.
func (b Bounds) checkImage(img Image) error {
	if s := max(uint64(img.Size), knownVirtualSize(img)); s > b.MaxDiskSize {
		return fmt.Errorf("image %s: %d bytes is over the node's limit of %d (--max-disk-size): %w", img.ID, s, b.MaxDiskSize, errs.ErrRefused)
	}
	return nil
}

// expansionLimit is how many bytes converting an image of stored bytes may
// write (0: unbounded).
func (b Bounds) expansionLimit(stored int64) uint64 {
	if b.MaxExpansion < 0 {
		return 0
	}
	return uint64(b.MaxExpansion * float64(max(stored, 1)))
}

// boundedWriterAt fails a write that would take the bytes written past
// limit. Conversions skip all-zero chunks, so what passes here is what the
// target allocates.
type boundedWriterAt struct {
	w       io.WriterAt
	limit   uint64 // 0: none
	what    string
	written atomic.Uint64
}

func (b *boundedWriterAt) WriteAt(p []byte, off int64) (int, error) {
	if n := b.written.Add(uint64(len(p))); b.limit > 0 && n > b.limit {
		return 0, fmt.Errorf("%s: conversion would allocate more than %d bytes (--max-expansion times its stored size): %w",
			b.what, b.limit, errs.ErrRefused)
	}
	return b.w.WriteAt(p, off)
}

// Truncate passes sizing on to a target that can be sized (a file), which
// the converters ask for; other targets are created at their size.
func (b *boundedWriterAt) Truncate(size int64) error {
	if t, ok := b.w.(interface{ Truncate(int64) error }); ok {
		return t.Truncate(size)
	}
	return nil
}
