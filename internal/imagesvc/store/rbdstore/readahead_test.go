package rbdstore

import (
	"bytes"
	"io"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/cowdisk/cowdisk/internal/imagesvc/store/storetest"
)

type countingSource struct {
	*bytes.Reader
	reads atomic.Int32
	bytes atomic.Int64
}

func (c *countingSource) ReadAt(p []byte, off int64) (int, error) {
	c.reads.Add(1)
	n, err := c.Reader.ReadAt(p, off)
	c.bytes.Add(int64(n))
	return n, err
}
func (c *countingSource) Close() error { return nil }

func TestReadahead(t *testing.T) {
	data := storetest.Data(10<<20+5, 9)
	for _, tc := range []struct {
		name     string
		read     func(r io.ReaderAt) []byte
		want     []byte
		maxReads int32
	}{
		{"sequential 32 KiB", func(r io.ReaderAt) []byte {
			b, _ := io.ReadAll(io.NewSectionReader(r, 0, int64(len(data))))
			return b
		}, data, 11},
		{"range in the middle", func(r io.ReaderAt) []byte {
			b := make([]byte, 10)
			r.ReadAt(b, 5<<20+3)
			return b
		}, data[5<<20+3 : 5<<20+13], 1},
		{"across a block edge", func(r io.ReaderAt) []byte {
			b := make([]byte, 100)
			r.ReadAt(b, 1<<20-50)
			return b
		}, data[1<<20-50 : 1<<20+50], 5},
	} {
		t.Run(tc.name, func(t *testing.T) {
			src := &countingSource{Reader: bytes.NewReader(data)}
			ra := newReadahead(src, 1<<20, 4)
			got := tc.read(ra)
			ra.Close()
			if !bytes.Equal(got, tc.want) {
				t.Fatalf("read %d bytes, differ from source", len(got))
			}
			if n := src.reads.Load(); n > tc.maxReads {
				t.Fatalf("%d reads from the source, want at most %d", n, tc.maxReads)
			}
		})
	}
	ra := newReadahead(&countingSource{Reader: bytes.NewReader(data)}, 1<<20, 4)
	if n, err := ra.ReadAt(make([]byte, 10), int64(len(data))-5); n != 5 || err != io.EOF {
		t.Fatalf("read over the end: %d %v", n, err)
	}
	ra.Close()
}

// TestReadaheadWindow: a Range read in 32 KiB pieces (as ServeContent
// does) fetches exactly the window's bytes, however the blocks fall, and
// reads outside the window still return the right bytes.
func TestReadaheadWindow(t *testing.T) {
	const mib = 1 << 20
	data := storetest.Data(24*mib+7, 4)
	for _, tc := range []struct {
		name   string
		lo, hi int64
	}{
		{"4 MiB chunk in the middle of an 8 MiB block", 4 * mib, 8 * mib},
		{"across blocks", 6 * mib, 18 * mib},
		{"short tail", 24 * mib, 24*mib + 7},
		{"one byte", 9 * mib, 9*mib + 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			src := &countingSource{Reader: bytes.NewReader(data)}
			ra := newReadahead(src, 8*mib, 4)
			ra.Window(tc.lo, tc.hi)
			got, err := io.ReadAll(io.NewSectionReader(ra, tc.lo, tc.hi-tc.lo))
			if err != nil || !bytes.Equal(got, data[tc.lo:tc.hi]) {
				t.Fatalf("read %d bytes (%v), differ from the source", len(got), err)
			}
			if n := src.bytes.Load(); n != tc.hi-tc.lo {
				t.Fatalf("%d bytes read from the source for a window of %d", n, tc.hi-tc.lo)
			}
			out := make([]byte, 100)
			if n, err := ra.ReadAt(out, 1); n != 100 || err != nil || !bytes.Equal(out, data[1:101]) {
				t.Fatalf("read outside the window: %d %v", n, err)
			}
			ra.Close()
		})
	}
}

// TestReadaheadConcurrent: readers at once, sequential and random, on one
// readahead whose buffers are pooled and reused as blocks leave the
// window: every read returns the source's bytes (run with -race too).
func TestReadaheadConcurrent(t *testing.T) {
	data := storetest.Data(12<<20+3, 5)
	ra := newReadahead(&countingSource{Reader: bytes.NewReader(data)}, 1<<20, 4)
	defer ra.Close()
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Go(func() {
			r := rand.New(rand.NewPCG(uint64(g), 1))
			for range 200 {
				off := r.Int64N(int64(len(data)))
				b := make([]byte, min(1+r.Int64N(300<<10), int64(len(data))-off))
				if n, err := ra.ReadAt(b, off); n != len(b) || (err != nil && err != io.EOF) || !bytes.Equal(b, data[off:off+int64(n)]) {
					t.Errorf("read %d at %d: %d %v or wrong bytes", len(b), off, n, err)
					return
				}
			}
		})
	}
	wg.Wait()
}
