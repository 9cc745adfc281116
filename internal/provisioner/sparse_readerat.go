package provisioner

import (
	"io"
	"slices"
	"sync"
)

// chunkReaderAt is random access to an image over its verified chunks: a
// chunk is fetched on first use, checked, and kept in a small LRU, so the
// format inspector and go-qcow2reader read the image straight from the
// image service, no local copy. Callers reading the same chunk at once
// share one fetch.
type chunkReaderAt struct {
	f   *chunkFetcher
	max int // chunks kept

	mu    sync.Mutex
	cache map[int]*cachedChunk
	order []int // least recently used first
}

type cachedChunk struct {
	ready chan struct{}
	data  []byte
	err   error
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
		data, err := r.chunk(i)
		if err != nil {
			return n, err
		}
		k := copy(p[n:], data[off-int64(i)*r.f.plan.chunkSize:])
		n += k
		off += int64(k)
	}
	if n < len(p) {
		return n, io.EOF
	}
	return n, nil
}

// chunk returns chunk i, from the cache or fetched (errors are kept: the
// transfer fails on the first). A miss also starts fetching the next data
// chunk: go-qcow2reader reads the file mostly in order, so the next ranged
// read overlaps with the conversion of this chunk instead of following it.
func (r *chunkReaderAt) chunk(i int) ([]byte, error) {
	if r.f.plan.zero[i] {
		return r.f.fetch(i, nil)
	}
	r.mu.Lock()
	c, ok := r.cache[i]
	if ok {
		r.touch(i)
		r.mu.Unlock()
		<-c.ready
		return c.data, c.err
	}
	c = r.start(i)
	next := r.start(i + 1)
	r.mu.Unlock()
	if next != nil {
		go r.load(i+1, next)
	}
	r.load(i, c)
	return c.data, c.err
}

// start registers a fetch of data chunk i that is not cached yet (nil when
// there is nothing to fetch); the caller then loads it. r.mu is held.
func (r *chunkReaderAt) start(i int) *cachedChunk {
	if i >= r.f.plan.count() || r.f.plan.zero[i] || r.cache[i] != nil {
		return nil
	}
	c := &cachedChunk{ready: make(chan struct{})}
	r.cache[i] = c
	r.order = append(r.order, i)
	r.evict()
	return c
}

// load fetches chunk i into c. Evicted buffers are left to the collector,
// not pooled: a reader may still be copying out of one.
func (r *chunkReaderAt) load(i int, c *cachedChunk) {
	c.data, c.err = r.f.fetch(i, make([]byte, r.f.plan.chunkSize))
	close(c.ready)
}

// peek returns chunk i if it is cached and fetched, without fetching.
func (r *chunkReaderAt) peek(i int) ([]byte, bool) {
	r.mu.Lock()
	c, ok := r.cache[i]
	r.mu.Unlock()
	if !ok {
		return nil, false
	}
	select {
	case <-c.ready:
		return c.data, c.err == nil
	default:
		return nil, false
	}
}

func (r *chunkReaderAt) touch(i int) {
	if k := slices.Index(r.order, i); k >= 0 {
		r.order = append(slices.Delete(r.order, k, k+1), i)
	}
}

// evict drops the least recently used chunks over max.
func (r *chunkReaderAt) evict() {
	for len(r.order) > r.max {
		delete(r.cache, r.order[0])
		r.order = r.order[1:]
	}
}
