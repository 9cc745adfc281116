package provisioner

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"

	"github.com/cowdisk/cowdisk/internal/errs"
	"github.com/cowdisk/cowdisk/internal/imageclient"
)

// chunkFetcher reads single chunks of one image by range and hands them out
// only once their SHA-256 matches the checked list.
type chunkFetcher struct {
	src   imageclient.ChunkReader
	plan  *chunkPlan
	ctx   context.Context // the transfer's: deadline and stall timeout
	stall *watchdog
	stats *Stats
	// zeros is chunkSize zero bytes, shared read-only by every zero chunk.
	zeros []byte
}

func newChunkFetcher(ctx context.Context, src imageclient.ChunkReader, plan *chunkPlan, stall *watchdog, stats *Stats) *chunkFetcher {
	return &chunkFetcher{src: src, plan: plan, ctx: ctx, stall: stall, stats: stats, zeros: make([]byte, plan.chunkSize)}
}

// fetch returns chunk i, verified: the shared zero buffer for a zero chunk
// (nothing is fetched), otherwise buf (at least a chunk long) filled by one
// ranged read within ctx (the transfer's, or one of its children).
func (f *chunkFetcher) fetch(ctx context.Context, i int, buf []byte) ([]byte, error) {
	off, n := f.plan.span(i)
	if f.plan.zero[i] {
		return f.zeros[:n], nil
	}
	buf = buf[:n]
	// Only the data span travels; the buffer is reused, so the zeros
	// around it are written here. The digest below covers all n bytes.
	lo, hi := f.plan.dataSpan(i)
	clear(buf[:lo])
	clear(buf[hi:])
	if lo < hi {
		if err := f.read(ctx, i, off+int64(lo), buf[lo:hi]); err != nil {
			return nil, err
		}
	}
	if sha256.Sum256(buf) != f.plan.digests[i] {
		return nil, fmt.Errorf("image %s: chunk %d (bytes %d-%d) does not match its SHA-256 in the chunk list: %w: %w",
			f.plan.id, i, off, off+int64(n)-1, errs.ErrChecksum, errs.ErrRefused)
	}
	return buf, nil
}

// read fills buf with the bytes at off; each read that brings data resets
// the stall watchdog. Errors name the image through the client's message.
func (f *chunkFetcher) read(ctx context.Context, i int, off int64, buf []byte) error {
	body, err := f.src.ReadRange(ctx, f.plan.id, off, int64(len(buf)))
	if err == nil {
		_, err = io.ReadFull(progressReader{r: body, f: f}, buf)
		body.Close()
	}
	if err == nil {
		return nil
	}
	err = boundErr(ctx, err)
	if errors.Is(err, errs.ErrRefused) || errors.Is(err, io.ErrUnexpectedEOF) {
		// The service answered, wrongly: the image as served is refused.
		// (An honest service whose storage fails answers an error before
		// the range's first byte: its store reads a range in one piece.)
		return fmt.Errorf("chunk %d: %w: %w", i, errs.ErrChecksum, ensureRefused(err))
	}
	return imageServiceErr(fmt.Errorf("chunk %d: %w", i, err))
}

func ensureRefused(err error) error {
	if errors.Is(err, errs.ErrRefused) {
		return err
	}
	return fmt.Errorf("%w: %w", err, errs.ErrRefused)
}

type progressReader struct {
	r io.Reader
	f *chunkFetcher
}

func (p progressReader) Read(b []byte) (int, error) {
	n, err := p.r.Read(b)
	if n > 0 {
		p.f.stall.reset()
		p.f.stats.BytesDownloaded.Add(int64(n))
	}
	return n, err
}

// haltingWriterAt halts the transfer's watchdog when a write fails (the
// qcow2 conversion's writers; the raw path's workers halt it themselves).
type haltingWriterAt struct {
	w     io.WriterAt
	stall *watchdog
}

func (h haltingWriterAt) WriteAt(p []byte, off int64) (int, error) {
	n, err := h.w.WriteAt(p, off)
	if err != nil {
		h.stall.halt()
	}
	return n, err
}
