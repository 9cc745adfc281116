package provisioner

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/cowdisk/cowdisk/internal/convert"
	"github.com/cowdisk/cowdisk/internal/errs"
	"github.com/cowdisk/cowdisk/internal/imageclient"
	"github.com/cowdisk/cowdisk/internal/imageformat"
)

// The sparse transfer keeps to the memory one fetch may hold in the
// agent's bound (FetchBytes of the writers per fetch, memory.go). Buffers
// are whole chunks of the list's size, so the counts follow from that
// budget in chunks:
//   - raw: each ranged read holds a chunk until it is written, and librbd
//     copies it while the write is in flight: two chunks per read;
//   - qcow2: each conversion worker holds an output buffer and librbd's copy
//     of it, plus one buffer the conversion reads ahead into; the rest is
//     the cache of verified input chunks, at least sparseMinCache (the
//     chunk being read, the one read ahead, and the metadata the reader
//     returns to), or reading ahead would evict what is being read.
const sparseMinCache = 3

// sparseBounds are the ranged reads of a raw image, the conversion workers
// of a qcow2 and the chunks it caches, for chunks of chunkSize bytes and a
// fetch of w writers (0: the default).
func sparseBounds(chunkSize int64, w int) (reads, convWorkers, cached int) {
	if w <= 0 {
		w = DefaultFetchWorkers
	}
	budget := int(int64(FetchBytes(w, convert.DefaultChunkSize)) / chunkSize)
	reads = max(1, budget/2)
	convWorkers = max(1, w/2)
	cached = max(sparseMinCache, budget-(2*convWorkers+1))
	return reads, convWorkers, cached
}

// sparseEnv is what the transfer needs from the backend running it.
type sparseEnv struct {
	src     ImageSource
	limits  imageformat.Limits
	bounds  Bounds
	convert convert.Options
	stats   *Stats
	log     *slog.Logger
}

// sparseTarget receives the raw image: it makes a new target of size bytes
// that reads as zeros, runs conv into it, and keeps it only if conv
// succeeds (nothing is left otherwise).
type sparseTarget func(size uint64, conv func(io.WriterAt) (uint64, error)) error

// fetchSparse fetches img into a target by the verified sparse transfer
// when the record binds a chunk list and the service serves it; ok is
// false (nothing done) when the whole-stream download must be used instead.
func fetchSparse(ctx context.Context, e sparseEnv, img Image, target sparseTarget) (size uint64, ok bool, err error) {
	src, isChunked := e.src.(imageclient.ChunkReader)
	if img.ChunksBinding == "" || !isChunked || !sparseFormat(img.DiskFormat) {
		return 0, false, nil
	}
	// The stall timeout bounds the list's arrival too: the watchdog is
	// reset only by chunk data.
	ctx, stall, stop := transferContext(ctx, img.ID, e.bounds)
	defer stop()
	plan, err := fetchPlan(ctx, src, img)
	if plan == nil || err != nil {
		if err == nil {
			e.log.InfoContext(ctx, "no chunk list, whole-stream download", "image_id", img.ID)
		}
		return 0, err != nil, err
	}
	e.stats.Downloads.Add(1)
	dataBytes := plan.dataBytes()
	e.stats.BytesToDownload.Add(dataBytes)
	start := time.Now()
	size, err = e.toRaw(ctx, img, newChunkFetcher(ctx, src, plan, stall, e.stats), target)
	if err != nil {
		return 0, true, boundErr(ctx, err)
	}
	e.log.InfoContext(ctx, "image fetched to raw by sparse transfer", "image_id", img.ID, "format", img.DiskFormat,
		"chunks", plan.count(), "data_bytes", dataBytes, "virtual_size", size, "took", time.Since(start))
	return size, true, nil
}

// fetchSparse is the sparse transfer into RBD image name (a temporary
// name; fetchRaw removes it on failure).
func (b *RBD) fetchSparse(ctx context.Context, img Image, name string) (uint64, bool, error) {
	e := sparseEnv{src: b.images, limits: b.cfg.Limits, bounds: b.cfg.Bounds, convert: b.cfg.Convert, stats: &b.stats, log: b.log}
	return fetchSparse(ctx, e, img, func(size uint64, conv func(io.WriterAt) (uint64, error)) error {
		return b.writeRaw(ctx, name, size, conv)
	})
}

// fetchPlan reads img's chunk list and checks it against the record. A
// service without one (another Glance: 404) gives neither plan nor error.
func fetchPlan(ctx context.Context, src imageclient.ChunkReader, img Image) (*chunkPlan, error) {
	list, err := src.Chunks(ctx, img.ID, maxChunkListBytes(img.Size))
	switch {
	case errors.Is(err, errs.ErrNotFound):
		return nil, nil
	case err != nil && ctx.Err() != nil: // a bound ended it: say which
		return nil, boundErr(ctx, err)
	case errors.Is(err, errs.ErrRefused): // an answer no honest service sends
		return nil, fmt.Errorf("image %s: %w: %w", img.ID, errs.ErrChecksum, err)
	case err != nil:
		return nil, imageServiceErr(err)
	}
	return checkChunkList(img, list)
}

// sparseFormat: raw is written chunk by chunk, qcow2 converted through
// random access; other formats need qemu-img and a local file, so they
// keep the whole-stream download.
func sparseFormat(f string) bool { return isRawFormat(f) || f == "qcow2" }

// toRaw inspects the image through its verified chunks (refusing format
// lies, backing and data files, huge virtual sizes before anything is
// written), then writes it as raw into target and returns its size.
func (e sparseEnv) toRaw(ctx context.Context, img Image, f *chunkFetcher, target sparseTarget) (uint64, error) {
	workers, convWorkers, cached := sparseBounds(f.plan.chunkSize, e.convert.Workers)
	ra := newChunkReaderAt(f, cached)
	info, err := imageformat.InspectReaderAt(ra, f.plan.size, e.limits)
	if err == nil {
		err = imageformat.Check(info, img.DiskFormat)
	}
	if err != nil && !strings.Contains(err.Error(), img.ID) {
		err = fmt.Errorf("image %s: %w", img.ID, err)
	}
	if err != nil {
		return 0, err
	}
	if isRawFormat(img.DiskFormat) {
		size := uint64(f.plan.size)
		return size, target(size, func(w io.WriterAt) (uint64, error) {
			return writeChunks(ctx, f, ra, w, workers) // its workers halt the watchdog on any failure
		})
	}
	limit := e.bounds.expansionLimit(f.plan.size)
	return info.VirtualSize, target(info.VirtualSize, func(w io.WriterAt) (uint64, error) {
		bw := &boundedWriterAt{w: haltingWriterAt{w, f.stall}, limit: limit, what: "image " + img.ID}
		o := e.convert
		o.Workers = convWorkers
		return convert.QCOW2ToRaw(ctx, ra, bw, o)
	})
}

// writeChunks writes every data chunk of a raw image into w, workers
// ranged reads at a time, each chunk verified before it is written. Chunks
// the inspector fetched (or is reading ahead) are taken from ra.
func writeChunks(ctx context.Context, f *chunkFetcher, ra *chunkReaderAt, w io.WriterAt, workers int) (uint64, error) {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	next := make(chan int)
	go func() {
		defer close(next)
		for i := range f.plan.count() {
			if f.plan.zero[i] {
				continue
			}
			select {
			case next <- i:
			case <-ctx.Done():
				return
			}
		}
	}()
	var wg sync.WaitGroup
	sums := make([]uint64, workers)
	for k := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			buf := make([]byte, f.plan.chunkSize)
			for i := range next {
				n, err := writeChunk(ctx, f, ra, w, i, buf)
				if err != nil {
					f.stall.halt()
					cancel(err)
					return
				}
				sums[k] += n
			}
		}()
	}
	wg.Wait()
	var total uint64
	for _, s := range sums {
		total += s
	}
	return total, context.Cause(ctx)
}

// writeChunk fetches (or takes from ra), verifies and writes chunk i.
// A failed worker cancels ctx, which ends the others' reads at once.
func writeChunk(ctx context.Context, f *chunkFetcher, ra *chunkReaderAt, w io.WriterAt, i int, buf []byte) (uint64, error) {
	data, done, ok := ra.cached(ctx, i)
	if ok {
		defer done()
	} else {
		var err error
		if data, err = f.fetch(ctx, i, buf); err != nil {
			return 0, err
		}
	}
	off, _ := f.plan.span(i)
	if _, err := w.WriteAt(data, off); err != nil {
		return 0, err
	}
	return uint64(len(data)), nil
}
