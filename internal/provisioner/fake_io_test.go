package provisioner

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"sync"

	"github.com/cowdisk/cowdisk/internal/ceph"
	"github.com/cowdisk/cowdisk/internal/errs"
)

// OpenReader reads an image's bytes (zeros past what was written, up to its
// size). Snapshots share the image's bytes: the fake never writes to an
// image after snapshotting it.
func (f *fakeCluster) OpenReader(_ context.Context, pool, name, snap string) (ImageReader, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	img, err := f.get(pool, name)
	if err != nil {
		return nil, err
	}
	info := ceph.ImageInfo{Pool: pool, Name: name, Size: img.size, Parent: img.parent}
	if img.parent != nil && img.data == nil {
		if p, err := f.get(img.parent.Pool, img.parent.Image); err == nil {
			img = p // an unwritten clone reads its parent
		}
	}
	data := make([]byte, img.size)
	copy(data, img.data)
	return fakeReader{bytes.NewReader(data), info}, nil
}

type fakeReader struct {
	*bytes.Reader
	info ceph.ImageInfo
}

func (fakeReader) Close() error                    { return nil }
func (r fakeReader) Info() (ceph.ImageInfo, error) { return r.info, nil }

// OpenWriter stages a size-byte image under a temporary name, as the real
// writer does, so a failed conversion that leaves it behind shows up in
// the pool.
func (f *fakeCluster) OpenWriter(ctx context.Context, pool, name string, size uint64, o ceph.ImageOptions) (ImageWriter, error) {
	tmp := name + ".fakewriter"
	if err := f.CreateImage(ctx, pool, tmp, size, o); err != nil {
		return nil, err
	}
	return &fakeWriter{f: f, pool: pool, name: name, tmp: tmp, data: make([]byte, size)}, nil
}

type fakeWriter struct {
	f               *fakeCluster
	pool, name, tmp string
	mu              sync.Mutex
	data            []byte
}

func (w *fakeWriter) WriteAt(p []byte, off int64) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if off < 0 || off+int64(len(p)) > int64(len(w.data)) {
		return 0, fmt.Errorf("fake writer %s: write past the end: %w", w.name, errs.ErrInvalid)
	}
	return copy(w.data[off:], p), nil
}

func (w *fakeWriter) Commit(ctx context.Context) error {
	w.f.mu.Lock()
	img, err := w.f.get(w.pool, w.tmp)
	if err == nil {
		img.data = w.data
	}
	w.f.mu.Unlock()
	if err != nil {
		return err
	}
	return w.f.Rename(ctx, w.pool, w.tmp, w.name)
}

func (w *fakeWriter) Discard(error) {
	_ = w.f.Remove(context.Background(), w.pool, w.tmp, ceph.RemoveOptions{})
}

var _ io.ReaderAt = fakeReader{}
