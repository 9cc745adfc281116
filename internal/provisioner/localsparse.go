package provisioner

import (
	"context"
	"io"
	"os"

	"github.com/cowdisk/cowdisk/internal/convert"
)

// sparseBase makes base by the verified sparse transfer when img has a
// chunk list (ok false: use the whole-stream download). The raw image is
// written into a sparse temporary file in this agent's staging directory
// (which the start-up reaper removes whole after a crash) and renamed into
// place only once complete; on failure it is removed.
func (l *Local) sparseBase(ctx context.Context, img Image, base string) (ok bool, err error) {
	e := sparseEnv{src: l.images, limits: l.cfg.Limits, bounds: l.cfg.Bounds,
		convert: convert.Options{Limits: l.cfg.Limits}, stats: &l.stats, log: l.log}
	_, ok, err = fetchSparse(ctx, e, img, func(size uint64, conv func(io.WriterAt) (uint64, error)) error {
		return l.rawFile(l.stage.dir, size, conv, func(tmp string) error { return os.Rename(tmp, base) })
	})
	return ok, err
}

// rawFile runs conv into a new sparse file of size bytes in dir and hands
// its name to keep; the file is removed unless keep moved it away.
func (l *Local) rawFile(dir string, size uint64, conv func(io.WriterAt) (uint64, error), keep func(string) error) error {
	l.stats.Conversions.Add(1)
	out, err := os.CreateTemp(dir, "raw.tmp-*")
	if err != nil {
		return err
	}
	defer os.Remove(out.Name()) // after keep's rename: nothing
	defer out.Close()
	if err := out.Truncate(int64(size)); err != nil {
		return err
	}
	written, err := conv(out)
	l.stats.BytesWritten.Add(int64(written))
	if err != nil {
		return err
	}
	if err := out.Close(); err != nil {
		return err
	}
	return keep(out.Name())
}
