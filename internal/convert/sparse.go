package convert

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"

	"golang.org/x/sys/unix"

	"github.com/cowdisk/cowdisk/internal/zeros"
)

// copySparse copies the first size bytes of f to dst in parallel chunks,
// skipping file holes (SEEK_DATA) without reading them and all-zero chunks
// without writing them.
func copySparse(ctx context.Context, f *os.File, size int64, dst io.WriterAt, o Options) (uint64, error) {
	fi, err := f.Stat()
	if err != nil {
		return 0, fmt.Errorf("copy %s: %w", f.Name(), err)
	}
	if fi.Size() != size {
		return 0, fmt.Errorf("copy %s: file is %d bytes, expected %d", f.Name(), fi.Size(), size)
	}
	if err := truncate(dst, size); err != nil {
		return 0, err
	}
	cw := &countingWriterAt{w: dst}
	err = forEachChunk(ctx, size, o, func(off int64, buf []byte) error {
		if hole(f, off, int64(len(buf))) {
			return nil
		}
		if _, err := f.ReadAt(buf, off); err != nil && !errors.Is(err, io.EOF) {
			return fmt.Errorf("read %s at %d: %w", f.Name(), off, err)
		}
		if zeros.All(buf) {
			return nil
		}
		if _, err := cw.WriteAt(buf, off); err != nil {
			return fmt.Errorf("write at %d: %w", off, err)
		}
		return nil
	})
	return cw.written.Load(), err
}

// hole reports whether [off, off+n) of f is entirely a hole. Filesystems
// without SEEK_DATA report data everywhere, which is merely slower.
func hole(f *os.File, off, n int64) bool {
	data, err := unix.Seek(int(f.Fd()), off, unix.SEEK_DATA)
	if err != nil {
		return errors.Is(err, unix.ENXIO) // no data after off at all
	}
	return data >= off+n
}

// truncate sizes a target that can be sized (an *os.File), so that trailing
// zeros that are never written still count; other targets (RBD) are created
// at their final size by the caller.
func truncate(dst io.WriterAt, size int64) error {
	if t, ok := dst.(interface{ Truncate(int64) error }); ok {
		if err := t.Truncate(size); err != nil {
			return fmt.Errorf("size target to %d bytes: %w", size, err)
		}
	}
	return nil
}
