package ceph

import (
	"context"
	"crypto/md5"
	"crypto/sha512"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"sync"
	"sync/atomic"

	"github.com/cowdisk/cowdisk/internal/bufpool"
	"github.com/cowdisk/cowdisk/internal/errs"
)

// ImportOptions tune Import. Zero values: 4 workers, one object per chunk,
// md5 and sha512 computed.
type ImportOptions struct {
	ImageOptions
	Workers   int
	ChunkSize int
	// SkipHashes leaves MD5 and SHA512 empty. Hashing costs more CPU than
	// the import itself (md5 runs at about 400 MB/s per core); a caller
	// that verified the source already, like the provisioner importing a
	// converted image, does not need it.
	SkipHashes bool
	// Tees each get every byte of the stream, in order, on a goroutine of
	// their own beside the hashes, from the same buffers (no copy); Import
	// returns after they have all consumed the last byte. Their Write must
	// not fail and must not keep the slice.
	Tees []io.Writer
}

// ImportResult describes an imported image. Written counts the bytes sent
// to the cluster; the rest of Size was zeros and was skipped.
type ImportResult struct {
	Size, Written uint64
	MD5, SHA512   string // hex
}

func (o ImportOptions) withDefaults() ImportOptions {
	o.ImageOptions = o.ImageOptions.withDefaults()
	if o.Workers <= 0 {
		o.Workers = 4
	}
	if o.ChunkSize <= 0 {
		// Object-sized chunks: each write fills one object, which is
		// the unit RBD allocates, so a zero chunk is a whole object saved.
		o.ChunkSize = 1 << o.ObjectSizeOrder
	}
	return o
}

// Import streams r into a new image pool/name. size is the stream length,
// or -1 when unknown (the image then grows ahead of the data and is trimmed
// at the end). Several goroutines write object-sized chunks in parallel at
// their offsets (go-ceph has no AIO, so this is where throughput comes
// from), all-zero chunks are skipped, and md5 and sha512 are computed on the
// way. Nothing touches local disk.
//
// The image is written straight into name, which callers stage (Stage,
// TempName) and publish once complete; on any error, or when ctx ends, it
// is removed. A stream longer or shorter than a known size is
// errs.ErrChecksum.
func (c *Cluster) Import(ctx context.Context, r io.Reader, size int64, pool, name string, o ImportOptions) (ImportResult, error) {
	o = o.withDefaults()
	// OpenWriter's create refuses a taken name before anything streams.
	w, err := c.OpenWriter(ctx, pool, name, uint64(max(size, 0)), o.ImageOptions)
	if err != nil {
		return ImportResult{}, err
	}
	res, err := (&importer{w: w, size: size, o: o}).run(ctx, cutIsError{r})
	if err != nil {
		// Removed now, or behind the answer when the cluster is not
		// answering (closing and removing would each block for the OSD
		// timeout, as cgo calls ignore ctx); a leftover is the caller's
		// recorded name, which its reaper removes.
		w.Discard(err)
		return res, err
	}
	return res, w.Commit(ctx)
}

// Stalled reports whether err says the cluster did not answer in time or
// is unreachable: then a cleanup call would just block again for the OSD or
// monitor timeout (cgo calls ignore ctx), so callers run it in the
// background instead of making their caller wait for it. A context that
// merely ended is not a stall: the cluster answers, cleanup is quick, and
// doing it before returning keeps "a failed import leaves nothing" exact.
//
// Only Ceph's own answer counts (an errno from librados or librbd): an image
// service that is unavailable says nothing of the cluster, whose cleanup
// is then quick and awaited.
func Stalled(err error) bool {
	var ce errorCoder
	if !errors.As(err, &ce) {
		return false
	}
	s := sentinelFor(ce.ErrorCode()) // the errnos translate maps to these
	return s == errs.ErrTimeout || s == errs.ErrUnavailable
}

// chunk is one buffer in flight. It goes back to the free list once the
// hashers and the writer are done with it.
type chunk struct {
	buf  []byte
	n    int
	off  int64
	refs atomic.Int32
}

type importer struct {
	w    *ImageWriter
	size int64
	o    ImportOptions

	free    chan *chunk
	once    sync.Once
	failure error
	cancel  context.CancelFunc
}

// fail records the first error and stops the pipeline.
func (im *importer) fail(err error) {
	im.once.Do(func() { im.failure = err; im.cancel() })
}

func (im *importer) release(c *chunk) {
	if c.refs.Add(-1) == 0 {
		im.free <- c
	}
}

func (im *importer) run(ctx context.Context, r io.Reader) (ImportResult, error) {
	ctx, im.cancel = context.WithCancel(ctx)
	defer im.cancel()
	// Workers+2 buffers bound memory and let the reader run one chunk
	// ahead of every worker while the hashers catch up.
	im.free = make(chan *chunk, im.o.Workers+2)
	for range cap(im.free) {
		im.free <- &chunk{buf: bufpool.Get(im.o.ChunkSize)}
	}
	defer im.recycle()
	var hs []hash.Hash // md5, sha512; each in its own goroutine
	if !im.o.SkipHashes {
		hs = []hash.Hash{md5.New(), sha512.New()}
	}
	// Each consumer of the stream has a goroutine of its own: md5 alone
	// runs at ~700 MB/s per core, below what the cluster takes.
	sinks := im.o.Tees
	for _, h := range hs {
		sinks = append(sinks, h)
	}
	work := make(chan *chunk, im.o.Workers)
	hashes := make([]chan *chunk, len(sinks))
	var wg sync.WaitGroup
	for range im.o.Workers {
		wg.Go(func() { im.writeLoop(ctx, work) })
	}
	for i, h := range sinks {
		hashes[i] = make(chan *chunk, cap(im.free))
		wg.Go(func() { im.hashLoop(h, hashes[i]) })
	}
	total, err := im.readLoop(ctx, r, work, hashes)
	close(work)
	for _, h := range hashes {
		close(h)
	}
	wg.Wait()
	if err != nil {
		im.fail(err)
	}
	if im.failure == nil {
		im.finish(ctx, total)
	}
	return im.result(total, hs), im.failure
}

// recycle returns the buffers to the pool once the pipeline has stopped
// (every chunk is back on the free list then); the next import reuses them.
func (im *importer) recycle() {
	for range cap(im.free) {
		select {
		case c := <-im.free:
			bufpool.Put(c.buf)
		default:
			return
		}
	}
}

func (im *importer) result(total int64, hs []hash.Hash) ImportResult {
	res := ImportResult{Size: uint64(total), Written: im.w.Written()}
	if len(hs) == 2 {
		res.MD5, res.SHA512 = hex.EncodeToString(hs[0].Sum(nil)), hex.EncodeToString(hs[1].Sum(nil))
	}
	return res
}

// readLoop reads the stream in chunks and hands each to a hasher pair and
// a writer, in stream order for the hashers.
func (im *importer) readLoop(ctx context.Context, r io.Reader, work chan<- *chunk, hashes []chan *chunk) (int64, error) {
	var off int64
	for {
		var c *chunk
		select {
		case <-ctx.Done():
			return off, ctx.Err()
		case c = <-im.free:
		}
		n, err := io.ReadFull(r, c.buf)
		if n > 0 {
			if gerr := im.makeRoom(off + int64(n)); gerr != nil {
				im.free <- c
				return off, gerr
			}
			c.n, c.off = n, off
			c.refs.Store(int32(1 + len(hashes)))
			for _, h := range hashes {
				h <- c
			}
			work <- c
			off += int64(n)
		} else {
			im.free <- c
		}
		switch {
		case err == io.EOF || err == io.ErrUnexpectedEOF:
			return off, nil
		case err != nil:
			return off, fmt.Errorf("ceph: import into %s: read source at byte %d: %w", imageSpec(im.w.pool, im.w.name), off, err)
		}
	}
}

// makeRoom checks a known size, or grows the image ahead of an unknown one.
func (im *importer) makeRoom(end int64) error {
	if im.size >= 0 {
		if end > im.size {
			return fmt.Errorf("ceph: import into %s: source is longer than the declared %d bytes: %w",
				imageSpec(im.w.pool, im.w.name), im.size, errs.ErrChecksum)
		}
		return nil
	}
	cur := im.w.Size()
	if uint64(end) <= cur {
		return nil
	}
	// Double, so an unknown-length stream costs log2(size) resizes.
	return im.w.Grow(max(uint64(end), 2*cur))
}

func (im *importer) writeLoop(ctx context.Context, work <-chan *chunk) {
	for c := range work {
		if ctx.Err() == nil {
			if _, err := im.w.WriteAt(c.buf[:c.n], c.off); err != nil {
				im.fail(err)
			}
		}
		im.release(c)
	}
}

func (im *importer) hashLoop(h io.Writer, in <-chan *chunk) {
	for c := range in {
		h.Write(c.buf[:c.n])
		im.release(c)
	}
}

// finish checks the length against a known size, or trims an unknown one.
func (im *importer) finish(ctx context.Context, total int64) {
	switch {
	case ctx.Err() != nil:
		im.fail(ctx.Err())
	case im.size >= 0 && total != im.size:
		im.fail(fmt.Errorf("ceph: import into %s: source ended at %d of the declared %d bytes: %w",
			imageSpec(im.w.pool, im.w.name), total, im.size, errs.ErrChecksum))
	case im.size < 0:
		if err := im.w.Truncate(uint64(total)); err != nil {
			im.fail(err)
		}
	}
}

// cutIsError keeps a source that ends early from passing for a complete one.
// The read loop uses io.ReadFull, whose io.ErrUnexpectedEOF means "short last
// chunk"; but a source may return io.ErrUnexpectedEOF itself (net/http does
// for a cut chunked body), and that must fail the import. Wrapping it turns
// it into a different error that still matches errors.Is.
type cutIsError struct{ r io.Reader }

func (c cutIsError) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	if err == io.ErrUnexpectedEOF {
		err = fmt.Errorf("source ended early: %w", err)
	}
	return n, err
}
