package provisioner

import (
	"bytes"
	"context"
	"io"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cowdisk/cowdisk/internal/imageclient"
)

// memChunks serves ranges of data from memory and counts them.
type memChunks struct {
	data   []byte
	ranges atomic.Int64
}

func (m *memChunks) Chunks(context.Context, string, int64) (imageclient.ChunkList, error) {
	panic("not used")
}

func (m *memChunks) ReadRange(_ context.Context, _ string, off, n int64) (io.ReadCloser, error) {
	m.ranges.Add(1)
	return io.NopCloser(bytes.NewReader(m.data[off : off+n])), nil
}

// Many readers at random offsets read exactly the image through the
// chunk ReaderAt, and however they interleave, the buffers it owns never
// exceed the cache plus one per reader and one read ahead per reader.
func TestChunkReaderAtConcurrent(t *testing.T) {
	const cs, chunks, readers, cached = 1 << 20, 12, 6, 4
	data := make([]byte, chunks*cs-100)
	r := rand.New(rand.NewPCG(3, 4))
	for i := range data {
		if (i/cs)%3 != 1 { // every third chunk is zeros
			data[i] = byte(r.Uint32())
		}
	}
	id := "a5ced000-0000-4000-8000-000000000001"
	plan := checkedPlan(t, id, data, cs)
	ctx, stall, stop := transferContext(context.Background(), id, Bounds{}.withDefaults())
	defer stop()
	src := &memChunks{data: data}
	ra := newChunkReaderAt(newChunkFetcher(ctx, src, plan, stall, &Stats{}), cached)
	var wg sync.WaitGroup
	errs := make(chan string, readers)
	for k := range readers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rr := rand.New(rand.NewPCG(uint64(k), 9))
			buf := make([]byte, 3*cs)
			for range 40 {
				off, n := rr.Int64N(int64(len(data))), 1+rr.IntN(len(buf))
				got, err := ra.ReadAt(buf[:n], off)
				want := data[off:min(off+int64(n), int64(len(data)))]
				if !bytes.Equal(buf[:got], want) || (got < n) != (err == io.EOF) {
					errs <- "ReadAt returned other bytes than the image's"
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Fatal(e)
	}
	// Reads ahead may still be landing: wait (bounded) until none is held.
	for try := 0; held(ra) > 0 && try < 500; try++ {
		time.Sleep(10 * time.Millisecond)
	}
	if n := held(ra); n > 0 {
		t.Fatalf("%d chunks still held after every read ended", n)
	}
	ra.mu.Lock()
	defer ra.mu.Unlock()
	if owned := len(ra.cache) + len(ra.free); owned > cached+2*readers {
		t.Fatalf("%d buffers owned, more than %d cached + 2 per reader", owned, cached)
	}
	t.Logf("%d ranged reads for %d data chunks", src.ranges.Load(), plan.count()-countZero(plan))
}

// held counts the cached chunks someone still holds.
func held(ra *chunkReaderAt) int {
	ra.mu.Lock()
	defer ra.mu.Unlock()
	n := 0
	for _, c := range ra.cache {
		if c.refs != 0 {
			n++
		}
	}
	return n
}

func countZero(p *chunkPlan) int {
	n := 0
	for _, z := range p.zero {
		if z {
			n++
		}
	}
	return n
}
