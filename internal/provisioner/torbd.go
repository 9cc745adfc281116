package provisioner

import (
	"context"
	"fmt"
	"io"
	"os"

	"github.com/cowdisk/cowdisk/internal/ceph"
	"github.com/cowdisk/cowdisk/internal/convert"
	"github.com/cowdisk/cowdisk/internal/imageformat"
)

// fetchRaw downloads the image and leaves it as raw RBD image pool/name (a
// temporary name). Size, hash and format are verified before anything is
// converted, and name is removed on any failure. It returns the virtual size.
//
//   - raw goes straight into RBD with the parallel thin import: no local file.
//   - qcow2 is staged in RBD (the converter needs random access) and
//     converted in Go from there into name: still no local file.
//   - other formats go through a local temporary file and qemu-img, because
//     only qemu-img reads them; the file is always removed.
func (b *RBD) fetchRaw(ctx context.Context, img Image, name string) (uint64, error) {
	dl, err := startDownload(ctx, b.images, img, b.cfg.Limits, &b.stats)
	if err != nil {
		return 0, err
	}
	defer dl.Close()
	var size uint64
	switch {
	case isRawFormat(img.DiskFormat):
		size, err = b.importVerified(ctx, dl, name)
	case imageformat.Format(img.DiskFormat) == imageformat.QCOW2:
		size, err = b.convertStaged(ctx, dl, name)
	default:
		size, err = b.convertViaFile(ctx, dl, name)
	}
	if err != nil {
		b.remove(ctx, name)
		return 0, err
	}
	return size, nil
}

func (b *RBD) importOptions() ceph.ImportOptions {
	return ceph.ImportOptions{Workers: b.cfg.ImportWorkers}
}

// importVerified imports the stream as is; the result only counts once the
// stream has been verified.
func (b *RBD) importVerified(ctx context.Context, dl *download, name string) (uint64, error) {
	res, err := b.c.Import(ctx, dl, sizeHint(dl.img), b.cfg.VMsPool, name, b.importOptions())
	if err != nil {
		return 0, fmt.Errorf("import image %s into %s/%s: %w", dl.img.ID, b.cfg.VMsPool, name, err)
	}
	b.stats.BytesWritten.Add(int64(res.Written))
	info, err := dl.finish()
	if err != nil {
		return 0, err
	}
	return max(info.VirtualSize, res.Size), nil
}

func sizeHint(img Image) int64 {
	if img.Size > 0 {
		return img.Size
	}
	return -1
}

// convertStaged lands the qcow2 bytes in a temporary RBD image, checks them,
// and converts from there.
func (b *RBD) convertStaged(ctx context.Context, dl *download, name string) (uint64, error) {
	stage := name + "-src"
	defer b.remove(ctx, stage)
	if _, err := b.c.Import(ctx, dl, sizeHint(dl.img), b.cfg.VMsPool, stage, b.importOptions()); err != nil {
		return 0, fmt.Errorf("stage image %s in %s/%s: %w", dl.img.ID, b.cfg.VMsPool, stage, err)
	}
	info, err := dl.finish()
	if err != nil {
		return 0, err
	}
	src, err := b.c.OpenReader(ctx, b.cfg.VMsPool, stage, "")
	if err != nil {
		return 0, err
	}
	defer src.Close()
	return info.VirtualSize, b.writeRaw(ctx, name, info.VirtualSize, func(w io.WriterAt) (uint64, error) {
		return convert.QCOW2ToRaw(ctx, src, w, b.cfg.Convert)
	})
}

// convertViaFile is for the formats only qemu-img reads.
func (b *RBD) convertViaFile(ctx context.Context, dl *download, name string) (uint64, error) {
	f, err := os.CreateTemp(b.cfg.TempDir, "cowdisk-"+dl.img.ID+"-*")
	if err != nil {
		return 0, err
	}
	defer os.Remove(f.Name())
	defer f.Close()
	if _, err := io.Copy(f, dl); err != nil {
		return 0, err
	}
	info, err := dl.finish()
	if err != nil {
		return 0, err
	}
	return info.VirtualSize, b.writeRaw(ctx, name, info.VirtualSize, func(w io.WriterAt) (uint64, error) {
		return convert.ToRaw(ctx, f.Name(), info, w, b.cfg.Convert)
	})
}

// writeRaw runs one conversion into a new RBD image pool/name of size bytes.
func (b *RBD) writeRaw(ctx context.Context, name string, size uint64, conv func(io.WriterAt) (uint64, error)) error {
	b.stats.Conversions.Add(1)
	w, err := b.c.OpenWriter(ctx, b.cfg.VMsPool, name, size, ceph.ImageOptions{})
	if err != nil {
		return err
	}
	written, err := conv(w)
	b.stats.BytesWritten.Add(int64(written))
	if err != nil {
		_ = w.Abort(context.WithoutCancel(ctx))
		return fmt.Errorf("convert into %s/%s: %w", b.cfg.VMsPool, name, err)
	}
	return w.Commit(ctx)
}
