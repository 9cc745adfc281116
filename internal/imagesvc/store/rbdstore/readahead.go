package rbdstore

import (
	"io"
	"sync"
)

// source is what readahead reads from (a *ceph.ImageReader).
type source interface {
	io.ReaderAt
	Size() int64
	Close() error
}

// readahead turns small sequential reads (net/http copies in 32 KiB
// pieces) into object-sized reads, several in flight at once: each librbd
// read is a round trip to an OSD, so small serial reads would cap a
// download at a fraction of what the cluster delivers. Random access (a
// Range request) fetches just the block it needs.
type readahead struct {
	src   source
	block int64
	depth int64

	mu     sync.Mutex
	blocks map[int64]*fetch
	last   int64 // block of the previous read, for detecting sequential access
	wg     sync.WaitGroup
}

type fetch struct {
	done chan struct{}
	buf  []byte
	n    int
	err  error
}

func newReadahead(src source, block, depth int) *readahead {
	return &readahead{src: src, block: int64(block), depth: int64(depth), blocks: map[int64]*fetch{}, last: -1}
}

func (r *readahead) Size() int64 { return r.src.Size() }

// Close waits for reads in flight: the source must not close under them.
func (r *readahead) Close() error {
	r.wg.Wait()
	return r.src.Close()
}

// get returns the fetch of block idx, starting it and, for sequential
// access, the next depth-1 blocks; blocks outside the window are dropped.
func (r *readahead) get(idx int64) *fetch {
	r.mu.Lock()
	defer r.mu.Unlock()
	ahead := int64(1)
	if idx == r.last || idx == r.last+1 {
		ahead = r.depth
	}
	r.last = idx
	for k := range r.blocks {
		if k < idx || k >= idx+r.depth {
			delete(r.blocks, k)
		}
	}
	nblocks := (r.src.Size() + r.block - 1) / r.block
	for k := idx; k < min(idx+ahead, nblocks); k++ {
		if r.blocks[k] == nil {
			f := &fetch{done: make(chan struct{}), buf: make([]byte, r.block)}
			r.blocks[k] = f
			r.wg.Go(func() {
				defer close(f.done)
				f.n, f.err = r.src.ReadAt(f.buf, k*r.block)
				if f.err == io.EOF {
					f.err = nil
				}
			})
		}
	}
	return r.blocks[idx]
}

// ReadAt implements io.ReaderAt.
func (r *readahead) ReadAt(p []byte, off int64) (int, error) {
	total := 0
	for len(p) > 0 {
		if off >= r.src.Size() {
			return total, io.EOF
		}
		idx := off / r.block
		f := r.get(idx)
		<-f.done
		if f.err != nil {
			return total, f.err
		}
		start := int(off - idx*r.block)
		if start >= f.n {
			return total, io.ErrUnexpectedEOF // the source was shorter than its Size
		}
		n := copy(p, f.buf[start:f.n])
		total += n
		p = p[n:]
		off += int64(n)
	}
	return total, nil
}
