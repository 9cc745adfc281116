package ceph_test

import (
	"bytes"
	"errors"
	"sync"
	"testing"

	"github.com/cowdisk/cowdisk/internal/ceph"
	"github.com/cowdisk/cowdisk/internal/errs"
	"github.com/cowdisk/cowdisk/internal/testcluster"
)

func TestWriterConcurrentCommit(t *testing.T) {
	ctx, c, images, _ := setup(t)
	name := imageName(t, "")
	data := randomData(t, 8*mib)
	w, err := c.OpenWriter(ctx, images, name, uint64(len(data)), ceph.ImageOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	const piece = 512 << 10
	for off := 0; off < len(data); off += piece {
		wg.Go(func() {
			if _, err := w.WriteAt(data[off:off+piece], int64(off)); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if _, err := w.WriteAt([]byte{1}, int64(len(data))); !errors.Is(err, errs.ErrInvalid) {
		t.Fatalf("write past the end: %v, want ErrInvalid", err)
	}
	if err := w.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	removeAtEnd(t, c, images, name)
	if err := w.Abort(ctx); err != nil {
		t.Fatalf("Abort after Commit: %v", err)
	}
	if got := readAll(t, ctx, c, images, name, ""); !bytes.Equal(got, data) {
		t.Fatal("written image differs")
	}
	testcluster.AssertPoolClean(t, c, images, name)
}

// The writer writes straight into the caller's (staged) name, so a taken
// name is refused before anything is written, and the image there is
// untouched.
func TestWriterRefusesTakenName(t *testing.T) {
	ctx, c, images, _ := setup(t)
	name := imageName(t, "")
	data := randomData(t, mib)
	importBytes(t, ctx, c, images, name, data)
	if _, err := c.OpenWriter(ctx, images, name, 2*mib, ceph.ImageOptions{}); !errors.Is(err, errs.ErrExists) {
		t.Fatalf("OpenWriter over an existing image = %v, want ErrExists", err)
	}
	if got := readAll(t, ctx, c, images, name, ""); !bytes.Equal(got, data) {
		t.Fatal("the existing image changed")
	}
	testcluster.AssertPoolClean(t, c, images, name)
}

func TestWriterAbort(t *testing.T) {
	ctx, c, images, _ := setup(t)
	w, err := c.OpenWriter(ctx, images, imageName(t, ""), mib, ceph.ImageOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.WriteAt(randomData(t, 4096), 0); err != nil {
		t.Fatal(err)
	}
	if err := w.Abort(ctx); err != nil {
		t.Fatal(err)
	}
	if err := w.Commit(ctx); !errors.Is(err, errs.ErrInvalid) {
		t.Fatalf("Commit after Abort = %v, want ErrInvalid", err)
	}
	testcluster.AssertPoolClean(t, c, images)
}

func TestReaderAt(t *testing.T) {
	ctx, c, images, _ := setup(t)
	name := imageName(t, "")
	data := randomData(t, mib+100)
	importBytes(t, ctx, c, images, name, data)
	r, err := c.OpenReader(ctx, images, name, "")
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	for _, tc := range []struct {
		name    string
		off     int64
		n       int
		wantN   int
		wantEOF bool
	}{
		{"inside", 10, 1000, 1000, false},
		{"up to the end", int64(len(data)) - 50, 50, 50, false},
		{"across the end", int64(len(data)) - 50, 100, 50, true},
		{"past the end", int64(len(data)) + 1, 10, 0, true},
	} {
		p := make([]byte, tc.n)
		n, err := r.ReadAt(p, tc.off)
		if n != tc.wantN || (err != nil) != tc.wantEOF || (n > 0 && !bytes.Equal(p[:n], data[tc.off:tc.off+int64(n)])) {
			t.Errorf("%s: ReadAt = %d, %v; want %d, eof %v", tc.name, n, err, tc.wantN, tc.wantEOF)
		}
	}
}
