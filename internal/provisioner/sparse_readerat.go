package provisioner

import (
	"context"
	"io"
	"slices"
	"sync"
)

// chunkReaderAt is random access to an image over its verified chunks: a
// chunk is fetched on first use, checked, and kept in a small LRU, so the
// format inspector and go-qcow2reader read the image straight from the
// image service, no local copy. Callers reading the same chunk at once
// share one fetch.
//
// Chunk buffers are reused, not left to the collector (which would let the
// heap grow to twice the cache between collections): a buffer goes back to
// the free list once its chunk is evicted and nobody still reads it.
type chunkReaderAt struct {
	f   *chunkFetcher
	max int // chunks kept

	mu    sync.Mutex
	cache map[int]*cachedChunk
	order []int    // least recently used first
	free  [][]byte // buffers of evicted chunks nobody reads
}

type cachedChunk struct {
	ready chan struct{}
	data  []byte
	err   error
	buf   []byte
	// refs counts the loader and the readers holding data; evicted says
	// the cache let go of it. Both under chunkReaderAt.mu.
	refs    int
	evicted bool
}

func newChunkReaderAt(f *chunkFetcher, max int) *chunkReaderAt {
	return &chunkReaderAt{f: f, max: max, cache: map[int]*cachedChunk{}}
}

// Size is the image's size (go-qcow2reader and the inspector ask).
func (r *chunkReaderAt) Size() int64 { return r.f.plan.size }

func (r *chunkReaderAt) ReadAt(p []byte, off int64) (int, error) {
	if off < 0 {
		return 0, io.ErrUnexpectedEOF
	}
	n := 0
	for n < len(p) && off < r.f.plan.size {
		i := int(off / r.f.plan.chunkSize)
		data, done, err := r.chunk(i)
		if err != nil {
			done()
			return n, err
		}
		k := copy(p[n:], data[off-int64(i)*r.f.plan.chunkSize:])
		done()
		n += k
		off += int64(k)
	}
	if n < len(p) {
		return n, io.EOF
	}
	return n, nil
}

// chunk returns chunk i, from the cache or fetched (errors are kept: the
// transfer fails on the first), and done, to call once data is no longer
// read. A miss also starts fetching the next data chunk: go-qcow2reader
// reads the file mostly in order, so the next ranged read overlaps with the
// conversion of this chunk instead of following it.
func (r *chunkReaderAt) chunk(i int) (data []byte, done func(), err error) {
	if r.f.plan.zero[i] {
		data, err = r.f.fetch(r.f.ctx, i, nil)
		return data, func() {}, err
	}
	r.mu.Lock()
	c, hit := r.cache[i]
	if hit {
		r.touch(i)
	} else {
		c = r.start(i)
	}
	c.refs++
	next := r.start(i + 1)
	r.mu.Unlock()
	if next != nil {
		go r.load(i+1, next)
	}
	if !hit {
		r.load(i, c)
	}
	<-c.ready
	if c.err != nil { // the transfer fails on it
		r.f.stall.halt()
	}
	return c.data, func() { r.release(c) }, c.err
}

// start registers a fetch of data chunk i that is not cached yet (nil when
// there is nothing to fetch), held by its loader. r.mu is held.
func (r *chunkReaderAt) start(i int) *cachedChunk {
	if i >= r.f.plan.count() || r.f.plan.zero[i] || r.cache[i] != nil {
		return nil
	}
	c := &cachedChunk{ready: make(chan struct{}), refs: 1}
	if n := len(r.free); n > 0 {
		c.buf, r.free = r.free[n-1], r.free[:n-1]
	} else {
		c.buf = make([]byte, r.f.plan.chunkSize)
	}
	r.cache[i] = c
	r.order = append(r.order, i)
	r.evict()
	return c
}

// load fetches chunk i into c and drops the loader's hold.
func (r *chunkReaderAt) load(i int, c *cachedChunk) {
	c.data, c.err = r.f.fetch(r.f.ctx, i, c.buf)
	close(c.ready)
	r.release(c)
}

// release drops one hold on c; the last one of an evicted chunk frees its
// buffer.
func (r *chunkReaderAt) release(c *cachedChunk) {
	r.mu.Lock()
	defer r.mu.Unlock()
	c.refs--
	r.recycle(c)
}

func (r *chunkReaderAt) recycle(c *cachedChunk) {
	if c.evicted && c.refs == 0 && c.buf != nil {
		r.free = append(r.free, c.buf)
		c.buf, c.data = nil, nil
	}
}

// cached returns chunk i and done if it is in the cache, waiting (within
// ctx) for a fetch under way rather than fetching it again; ok is false
// when it is not cached, its fetch failed, or ctx ended.
func (r *chunkReaderAt) cached(ctx context.Context, i int) (data []byte, done func(), ok bool) {
	r.mu.Lock()
	c, hit := r.cache[i]
	if hit {
		c.refs++
	}
	r.mu.Unlock()
	if !hit {
		return nil, nil, false
	}
	select {
	case <-c.ready:
		if c.err == nil {
			return c.data, func() { r.release(c) }, true
		}
	case <-ctx.Done():
	}
	r.release(c)
	return nil, nil, false
}

func (r *chunkReaderAt) touch(i int) {
	if k := slices.Index(r.order, i); k >= 0 {
		r.order = append(slices.Delete(r.order, k, k+1), i)
	}
}

// evict drops the least recently used chunks over max; their buffers are
// reused once nobody reads them. r.mu is held.
func (r *chunkReaderAt) evict() {
	for len(r.order) > r.max {
		c := r.cache[r.order[0]]
		delete(r.cache, r.order[0])
		r.order = r.order[1:]
		c.evicted = true
		r.recycle(c)
	}
}
