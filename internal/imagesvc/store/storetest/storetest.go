// Package storetest is one behaviour suite every store.Store must pass, so
// the file and RBD stores cannot drift apart (containerd runs one snapshotter
// suite against every backend the same way).
package storetest

import (
	"bytes"
	"context"
	"errors"
	"io"
	"math/rand/v2"
	"testing"
	"testing/iotest"

	"github.com/cowdisk/cowdisk/internal/imagesvc/store"
)

// Harness is what a store gives the suite.
type Harness struct {
	Store store.Store
	// Leftovers lists whatever the store still holds (files, RBD images);
	// the suite checks it is empty after deletes and failed puts.
	Leftovers func(t *testing.T) []string
	// Size of the test image; a few object sizes so chunking is exercised.
	Size int
}

// Data returns n bytes of a pattern with long zero runs (as disk images
// have) and random runs, reproducible from seed.
func Data(n int, seed uint64) []byte {
	b := make([]byte, n)
	r := rand.New(rand.NewPCG(seed, seed))
	for off := 0; off < n; {
		run := min(n-off, 1<<16+r.IntN(1<<20))
		if r.IntN(10) < 4 { // ~40% data
			for i := off; i < off+run; i++ {
				b[i] = byte(r.Uint32())
			}
		}
		off += run
	}
	return b
}

// Run runs the suite.
func Run(t *testing.T, h Harness) {
	ctx := context.Background()
	data := Data(h.Size, 1)
	for _, tc := range []struct {
		name string
		r    func() io.Reader
		size int64
	}{
		{"known size", func() io.Reader { return bytes.NewReader(data) }, int64(len(data))},
		// OneByteReader-like short reads and no size: the chunked upload case.
		{"unknown size", func() io.Reader { return iotest.HalfReader(bytes.NewReader(data)) }, -1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			id := "0f0e0d0c-0b0a-4908-8706-0504030201" + map[bool]string{true: "00", false: "01"}[tc.size >= 0]
			res, err := h.Store.Put(ctx, id, tc.r(), tc.size)
			if err != nil {
				t.Fatal(err)
			}
			if res.Size != int64(len(data)) || res.Location == "" {
				t.Fatalf("result %+v", res)
			}
			obj, err := h.Store.Open(ctx, res.Location)
			if err != nil {
				t.Fatal(err)
			}
			got, err := io.ReadAll(io.NewSectionReader(obj, 0, obj.Size()))
			obj.Close()
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, data) {
				t.Fatalf("read back %d bytes differ from the %d uploaded", len(got), len(data))
			}
			if err := h.Store.Delete(ctx, res.Location); err != nil {
				t.Fatal(err)
			}
			if err := h.Store.Delete(ctx, res.Location); err != nil {
				t.Fatalf("second delete: %v", err)
			}
			if _, err := h.Store.Open(ctx, res.Location); err == nil {
				t.Fatal("open after delete succeeded")
			}
			if left := h.Leftovers(t); len(left) > 0 {
				t.Fatalf("left behind: %v", left)
			}
		})
	}
	t.Run("cut upload leaves nothing", func(t *testing.T) {
		// net/http reports a cut body as io.ErrUnexpectedEOF, which
		// io.ReadFull-style loops can mistake for a short last chunk.
		for _, cut := range []error{errors.New("connection reset"), io.ErrUnexpectedEOF} {
			for _, size := range []int64{int64(len(data)), -1} {
				r := io.MultiReader(bytes.NewReader(data[:len(data)/2]), iotest.ErrReader(cut))
				_, err := h.Store.Put(ctx, "0f0e0d0c-0b0a-4908-8706-050403020199", r, size)
				if !errors.Is(err, cut) {
					t.Fatalf("%v, size %d: want the reader's error, got %v", cut, size, err)
				}
				if left := h.Leftovers(t); len(left) > 0 {
					t.Fatalf("%v, size %d: left behind: %v", cut, size, left)
				}
			}
		}
	})
	t.Run("canceled context", func(t *testing.T) {
		cctx, cancel := context.WithCancel(ctx)
		cancel()
		if _, err := h.Store.Put(cctx, "0f0e0d0c-0b0a-4908-8706-050403020198", bytes.NewReader(data), -1); err == nil {
			t.Fatal("put with canceled context succeeded")
		}
		if left := h.Leftovers(t); len(left) > 0 {
			t.Fatalf("left behind: %v", left)
		}
	})
}
