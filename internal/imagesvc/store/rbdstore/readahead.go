package rbdstore

import (
	"io"
	"sync"
	"sync/atomic"

	"github.com/cowdisk/cowdisk/internal/bufpool"
	"github.com/cowdisk/cowdisk/internal/imagesvc/store"
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
// download at a fraction of what the cluster delivers. Random access
// fetches just the block it needs. A Range request sets a window (Window):
// then only the window's bytes are fetched, however the blocks fall, so a
// node fetching 4 MiB chunks of an image with 8 MiB objects reads each byte
// once and nothing beyond its range.
type readahead struct {
	src    source
	block  int64
	depth  int64
	lo, hi int64 // the window: nothing outside it is fetched ahead or cached

	mu     sync.Mutex
	blocks map[int64]*fetch
	last   int64 // block of the previous read, for detecting sequential access
	wg     sync.WaitGroup
}

var _ store.Windowed = (*readahead)(nil)

// fetch is one block being read or read. Its buffer comes from bufpool
// (without it every download allocates, zeroes and later collects an
// object-sized buffer per block, a tenth of a download's CPU) and goes
// back when the last holder lets go (the window, the read in flight, and
// each ReadAt copying out of it), so a reader never sees a reused buffer.
type fetch struct {
	done chan struct{}
	from int64 // offset of buf[0] in the source
	buf  []byte
	n    int
	err  error
	refs atomic.Int32
}

func (f *fetch) release() {
	if f.refs.Add(-1) == 0 {
		bufpool.Put(f.buf)
	}
}

func newReadahead(src source, block, depth int) *readahead {
	return &readahead{src: src, block: int64(block), depth: int64(depth), blocks: map[int64]*fetch{}, last: -1,
		hi: src.Size()}
}

// Window limits fetching to [lo, hi) before the first read (the download
// handler calls it for a single Range). Reads outside it stay correct:
// they go to the source directly.
func (r *readahead) Window(lo, hi int64) {
	r.lo, r.hi = max(lo, 0), min(hi, r.src.Size())
}

func (r *readahead) Size() int64 { return r.src.Size() }

// Close waits for reads in flight: the source must not close under them.
func (r *readahead) Close() error {
	r.wg.Wait()
	r.mu.Lock()
	for k, f := range r.blocks {
		delete(r.blocks, k)
		f.release()
	}
	r.mu.Unlock()
	return r.src.Close()
}

// get returns the fetch of block idx, held for the caller (who releases
// it), starting it and, for sequential access, the next depth-1 blocks;
// blocks outside the window are dropped.
func (r *readahead) get(idx int64) *fetch {
	r.mu.Lock()
	defer r.mu.Unlock()
	ahead := int64(1)
	if idx == r.last || idx == r.last+1 {
		ahead = r.depth
	}
	r.last = idx
	for k := range r.blocks {
		if f := r.blocks[k]; k < idx || k >= idx+r.depth {
			delete(r.blocks, k)
			f.release()
		}
	}
	nblocks := (r.hi + r.block - 1) / r.block
	for k := idx; k < min(idx+ahead, nblocks); k++ {
		if r.blocks[k] == nil {
			from, to := max(k*r.block, r.lo), min((k+1)*r.block, r.hi)
			f := &fetch{done: make(chan struct{}), from: from, buf: bufpool.Get(int(r.block))}
			f.refs.Store(2) // the window's and the read's
			r.blocks[k] = f
			r.wg.Go(func() {
				defer f.release()
				defer close(f.done)
				f.n, f.err = r.src.ReadAt(f.buf[:to-from], from)
				if f.err == io.EOF {
					f.err = nil
				}
			})
		}
	}
	f := r.blocks[idx]
	f.refs.Add(1)
	return f
}

// ReadAt implements io.ReaderAt.
func (r *readahead) ReadAt(p []byte, off int64) (int, error) {
	total := 0
	for len(p) > 0 {
		if off >= r.src.Size() {
			return total, io.EOF
		}
		if off < r.lo || off >= r.hi {
			n, err := r.direct(p, off)
			return total + n, err
		}
		n, err := r.copyOut(p, off)
		if err != nil {
			return total, err
		}
		total += n
		p = p[n:]
		off += int64(n)
	}
	return total, nil
}

// copyOut copies what the block holding off has from off on into p.
func (r *readahead) copyOut(p []byte, off int64) (int, error) {
	f := r.get(off / r.block)
	defer f.release()
	<-f.done
	if f.err != nil {
		return 0, f.err
	}
	start := int(off - f.from)
	if start >= f.n {
		return 0, io.ErrUnexpectedEOF // the source was shorter than its Size
	}
	return copy(p, f.buf[start:f.n]), nil
}

// direct reads outside the window straight from the source.
func (r *readahead) direct(p []byte, off int64) (int, error) {
	n, err := r.src.ReadAt(p, off)
	if err == nil && n < len(p) {
		err = io.ErrUnexpectedEOF
	}
	return n, err
}
