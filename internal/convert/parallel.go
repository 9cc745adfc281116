package convert

import (
	"context"
	"fmt"
	"io"
	"sync"
	"sync/atomic"

	"github.com/cowdisk/cowdisk/internal/bufpool"
)

// forEachChunk calls fn for every chunk of [0, size) from o.Workers
// goroutines and returns the first error; it stops handing out chunks once
// ctx is done or a call failed.
func forEachChunk(ctx context.Context, size int64, o Options, fn func(off int64, buf []byte) error) error {
	var (
		next    atomic.Int64
		wg      sync.WaitGroup
		errOnce sync.Once
		first   error
	)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	chunk := int64(o.ChunkSize)
	for range o.Workers {
		wg.Go(func() {
			buf := bufpool.Get(int(chunk))
			defer bufpool.Put(buf)
			for ctx.Err() == nil {
				off := next.Add(chunk) - chunk
				if off >= size {
					return
				}
				if err := fn(off, buf[:min(chunk, size-off)]); err != nil {
					errOnce.Do(func() { first = err; cancel() })
					return
				}
			}
		})
	}
	wg.Wait()
	if first != nil {
		return first
	}
	return ctx.Err()
}

// countingWriterAt counts the bytes written to w, turns a short write into
// an error and remembers whether any write failed, so a failed conversion
// can be blamed on the target or on the image.
type countingWriterAt struct {
	w       io.WriterAt
	written atomic.Uint64
	failed  atomic.Bool
}

func (c *countingWriterAt) WriteAt(p []byte, off int64) (int, error) {
	n, err := c.w.WriteAt(p, off)
	c.written.Add(uint64(n))
	if err == nil && n != len(p) {
		err = fmt.Errorf("short write at %d: %d of %d bytes", off, n, len(p))
	}
	if err != nil {
		c.failed.Store(true)
	}
	return n, err
}

// ctxReaderAt fails reads once ctx is done, so a conversion whose library
// takes no context still stops promptly. It deliberately hides the
// underlying type: no Close (the caller owns the file) and no Name (a
// library cannot resolve paths relative to it).
type ctxReaderAt struct {
	ctx context.Context
	r   io.ReaderAt
}

func (c ctxReaderAt) ReadAt(p []byte, off int64) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.ReadAt(p, off)
}
