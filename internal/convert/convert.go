// Package convert turns an inspected disk image into raw bytes written
// through an io.WriterAt (an RBD image writer, a file), thin: ranges that
// are unallocated or all zero are never written.
//
// qcow2 is converted in Go with go-qcow2reader, after the inspector has
// refused backing files and data files, because that is the common cloud
// format and reading it in-process needs no temporary copy. vmdk, vhd, vhdx
// and vdi go through `qemu-img convert -f <detected> -O raw` under prlimit:
// the format is always given (never probed) and the CPU time and address
// space are capped, so a hostile image costs bounded resources. Every
// conversion re-inspects its input first and checks that the result is
// exactly the virtual size.
package convert

import (
	"context"
	"fmt"
	"io"
	"os"

	"github.com/cowdisk/cowdisk/internal/errs"
	"github.com/cowdisk/cowdisk/internal/imageformat"
)

// WriterAt receives the raw image. Conversions write disjoint ranges from
// several goroutines at once and skip all-zero chunks, so the target must
// read as zeros where nothing is written (a new RBD image or a new file).
type WriterAt interface{ io.WriterAt }

// Defaults for zero Options fields.
const (
	DefaultWorkers          = 4
	DefaultChunkSize        = 4 << 20 // RBD's default object size: one write per object
	DefaultCPUSeconds       = 60      // plus DefaultCPUSecondsPerGiB for each GiB of virtual size
	DefaultCPUSecondsPerGiB = 10
	DefaultAddressSpace     = 2 << 30
)

// Options tunes a conversion; the zero value is sensible.
type Options struct {
	// Workers is the number of goroutines reading and writing in parallel.
	Workers int
	// ChunkSize is the unit of reading, zero detection and writing; use the
	// target's object size so a skipped chunk is a whole unallocated object.
	ChunkSize int
	// CPUSeconds caps qemu-img's CPU time (prlimit --cpu). Zero means
	// DefaultCPUSeconds plus DefaultCPUSecondsPerGiB per GiB of virtual size:
	// decompressing a streamOptimized vmdk takes a few seconds per GiB, a
	// hostile image that spins takes forever.
	CPUSeconds int
	// AddressSpaceBytes caps qemu-img's address space (prlimit --as).
	AddressSpaceBytes uint64
	// TempDir holds qemu-img's raw output until it is copied; "" is os.TempDir.
	TempDir string
	// Limits are applied when the input is inspected again.
	Limits imageformat.Limits
	// MaxAllocated bounds the bytes qemu-img's temporary output may occupy
	// (0: no bound); the caller bounds what it writes into dst itself.
	MaxAllocated uint64
	// QemuImg and Prlimit are absolute paths of the binaries; "" uses the
	// ones found in PATH once (see QemuImg).
	QemuImg, Prlimit string
}

func (o Options) withDefaults() Options {
	if o.Workers <= 0 {
		o.Workers = DefaultWorkers
	}
	if o.ChunkSize <= 0 {
		o.ChunkSize = DefaultChunkSize
	}
	if o.AddressSpaceBytes == 0 {
		o.AddressSpaceBytes = DefaultAddressSpace
	}
	return o
}

// ToRaw converts the local image file src, which the caller inspected as
// info, to raw in dst and returns the number of bytes written (zero chunks
// are not written). The file is inspected again first, so an image swapped or
// modified after its inspection is refused rather than converted.
func ToRaw(ctx context.Context, src string, info imageformat.Info, dst WriterAt, o Options) (uint64, error) {
	if err := info.Err(); err != nil {
		return 0, err
	}
	o = o.withDefaults()
	f, err := os.Open(src)
	if err != nil {
		return 0, fmt.Errorf("convert %s: %w", src, err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return 0, fmt.Errorf("convert %s: %w", src, err)
	}
	now, err := imageformat.InspectReaderAt(f, fi.Size(), o.Limits)
	if err != nil {
		return 0, fmt.Errorf("convert %s: %w", src, err)
	}
	if now.Format != info.Format || now.VirtualSize != info.VirtualSize {
		return 0, fmt.Errorf("convert %s: %w: inspected as %s of %d bytes, now %s of %d bytes",
			src, errs.ErrFormatMismatch, info.Format, info.VirtualSize, now.Format, now.VirtualSize)
	}
	return convertFile(ctx, f, now, dst, o)
}

// convertFile converts the open, inspected file f; nothing reopens it by
// name, so it cannot be swapped between inspection and conversion.
func convertFile(ctx context.Context, f *os.File, info imageformat.Info, dst io.WriterAt, o Options) (uint64, error) {
	switch info.Format {
	case imageformat.Raw, imageformat.GPT, imageformat.ISO:
		return copySparse(ctx, f, int64(info.VirtualSize), dst, o)
	case imageformat.QCOW2:
		return qcow2ToRaw(ctx, f, info, dst, o)
	case imageformat.VMDK, imageformat.VHD, imageformat.VHDX, imageformat.VDI:
		return qemuImgToRaw(ctx, f, info, dst, o)
	}
	return 0, fmt.Errorf("convert %s: %w: %s images cannot be converted to raw", f.Name(), errs.ErrInvalid, info.Format)
}
