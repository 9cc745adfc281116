package provisioner

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"

	"github.com/cowdisk/cowdisk/internal/ceph"
	"github.com/cowdisk/cowdisk/internal/errs"
)

// fakeCluster is an in-memory RBD with the semantics the backend relies on:
// exclusive names, snapshots, parents, depth and remove-with-snapshots.
type fakeCluster struct {
	mu     sync.Mutex
	fsid   string
	images map[string]*fakeImage // "pool/name"
	calls  []string
	// busy counts, per "pool/name", the Remove calls still to answer
	// ErrBusy (a watch left by a killed process).
	busy map[string]int
	// journals are the staging records per "pool/owner"
	// (fake_journal_test.go).
	journals map[string]map[string]string
}

type fakeImage struct {
	size   uint64
	data   []byte
	snaps  []string
	parent *ceph.SnapRef
	meta   map[string]string // see fake_meta_test.go
}

func newFakeCluster() *fakeCluster {
	return &fakeCluster{fsid: "fsid-1", images: map[string]*fakeImage{}}
}

func (f *fakeCluster) put(pool, name string, size uint64, snaps ...string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.images[pool+"/"+name] = &fakeImage{size: size, snaps: snaps}
}

func (f *fakeCluster) get(pool, name string) (*fakeImage, error) {
	img, ok := f.images[pool+"/"+name]
	if !ok {
		return nil, fmt.Errorf("image %s/%s: %w", pool, name, errs.ErrNotFound)
	}
	return img, nil
}

func (f *fakeCluster) names(pool string) []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []string
	for k := range f.images {
		if p, n, _ := strings.Cut(k, "/"); p == pool {
			out = append(out, n)
		}
	}
	slices.Sort(out)
	return out
}

func (f *fakeCluster) record(op string) { f.calls = append(f.calls, op) }

func (f *fakeCluster) FSID() string { return f.fsid }
func (f *fakeCluster) MonitorAddrs(context.Context) ([]string, error) {
	return []string{"127.0.0.1:6789", "[::1]:3300"}, nil
}
func (f *fakeCluster) ListImages(_ context.Context, pool string) ([]string, error) {
	return f.names(pool), nil
}
func (f *fakeCluster) Exists(_ context.Context, pool, name, snap string) (bool, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	img, err := f.get(pool, name)
	if err != nil {
		return false, nil
	}
	return snap == "" || slices.Contains(img.snaps, snap), nil
}
func (f *fakeCluster) Stat(_ context.Context, pool, name string) (ceph.ImageInfo, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	img, err := f.get(pool, name)
	if err != nil {
		return ceph.ImageInfo{}, err
	}
	return ceph.ImageInfo{Pool: pool, Name: name, Size: img.size, Parent: img.parent}, nil
}
func (f *fakeCluster) CreateImage(_ context.Context, pool, name string, size uint64, _ ceph.ImageOptions) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if _, taken := f.images[pool+"/"+name]; taken {
		return fmt.Errorf("image %s/%s: %w", pool, name, errs.ErrExists)
	}
	f.images[pool+"/"+name] = &fakeImage{size: size}
	return nil
}
func (f *fakeCluster) Resize(_ context.Context, pool, name string, size uint64, _ bool) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	img, err := f.get(pool, name)
	if err == nil {
		img.size = size
	}
	return err
}
func (f *fakeCluster) Rename(_ context.Context, pool, from, to string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	img, err := f.get(pool, from)
	if err != nil {
		return err
	}
	if _, taken := f.images[pool+"/"+to]; taken {
		return fmt.Errorf("image %s/%s: %w", pool, to, errs.ErrExists)
	}
	delete(f.images, pool+"/"+from)
	f.images[pool+"/"+to] = img
	for _, c := range f.images { // children follow a renamed parent, as in librbd
		if c.parent != nil && c.parent.Pool == pool && c.parent.Image == from {
			c.parent.Image = to
		}
	}
	return nil
}
func (f *fakeCluster) Clone(_ context.Context, parent ceph.SnapRef, pool, name string, _ ceph.ImageOptions) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.record("clone " + parent.String())
	p, err := f.get(parent.Pool, parent.Image)
	if err != nil {
		return err
	}
	if !slices.Contains(p.snaps, parent.Snap) {
		return fmt.Errorf("snapshot %s: %w", parent, errs.ErrNotFound)
	}
	if _, taken := f.images[pool+"/"+name]; taken {
		return fmt.Errorf("image %s/%s: %w", pool, name, errs.ErrExists)
	}
	ref := parent
	f.images[pool+"/"+name] = &fakeImage{size: p.size, parent: &ref}
	return nil
}
func (f *fakeCluster) CreateSnapshot(_ context.Context, pool, image, snap string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	img, err := f.get(pool, image)
	if err == nil {
		img.snaps = append(img.snaps, snap)
	}
	return err
}
func (f *fakeCluster) ListSnapshots(_ context.Context, pool, image string) ([]string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	img, err := f.get(pool, image)
	if err != nil {
		return nil, err
	}
	return slices.Clone(img.snaps), nil
}
func (f *fakeCluster) children(pool, image, snap string) []ceph.Child {
	var kids []ceph.Child
	for k, c := range f.images {
		if c.parent != nil && *c.parent == (ceph.SnapRef{Pool: pool, Image: image, Snap: snap}) {
			p, n, _ := strings.Cut(k, "/")
			kids = append(kids, ceph.Child{Pool: p, Name: n})
		}
	}
	return kids
}
func (f *fakeCluster) Children(_ context.Context, pool, image, snap string) ([]ceph.Child, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.children(pool, image, snap), nil
}
func (f *fakeCluster) CloneDepth(_ context.Context, pool, name string) (int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	depth := 0
	for {
		img, err := f.get(pool, name)
		if err != nil {
			return 0, err
		}
		if img.parent == nil {
			return depth, nil
		}
		depth++
		pool, name = img.parent.Pool, img.parent.Image
	}
}
func (f *fakeCluster) Flatten(_ context.Context, pool, name string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.record("flatten " + pool + "/" + name)
	img, err := f.get(pool, name)
	if err == nil {
		img.parent = nil
	}
	return err
}
func (f *fakeCluster) Remove(_ context.Context, pool, name string, o ceph.RemoveOptions) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	img, ok := f.images[pool+"/"+name]
	if !ok {
		return nil
	}
	if f.busy[pool+"/"+name] > 0 {
		f.busy[pool+"/"+name]--
		if o.TrashAsLastResort {
			f.calls = append(f.calls, "trash "+pool+"/"+name)
			delete(f.images, pool+"/"+name)
			return nil
		}
		return fmt.Errorf("image %s/%s: %w", pool, name, errs.ErrBusy)
	}
	for _, s := range img.snaps {
		if len(f.children(pool, name, s)) > 0 {
			return fmt.Errorf("image %s/%s@%s has children: %w", pool, name, s, errs.ErrInUse)
		}
	}
	delete(f.images, pool+"/"+name)
	return nil
}
func (f *fakeCluster) CleanupInstance(ctx context.Context, pool, instanceID string) error {
	for _, n := range f.names(pool) {
		if strings.HasPrefix(n, instanceID+"_") {
			if err := f.Remove(ctx, pool, n, ceph.RemoveOptions{}); err != nil {
				return err
			}
		}
	}
	return nil
}
func (f *fakeCluster) Import(_ context.Context, r io.Reader, _ int64, pool, name string, _ ceph.ImportOptions) (ceph.ImportResult, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return ceph.ImportResult{}, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if _, taken := f.images[pool+"/"+name]; taken {
		return ceph.ImportResult{}, fmt.Errorf("image %s/%s: %w", pool, name, errs.ErrExists)
	}
	f.images[pool+"/"+name] = &fakeImage{size: uint64(len(data)), data: data}
	return ceph.ImportResult{Size: uint64(len(data)), Written: uint64(len(data))}, nil
}

// fakeImages is an in-memory image service.
type fakeImages struct {
	mu        sync.Mutex
	images    map[string]Image
	data      map[string][]byte
	downloads int
	gate      chan struct{} // when set, downloads wait for it
}

func newFakeImages() *fakeImages {
	return &fakeImages{images: map[string]Image{}, data: map[string][]byte{}}
}

func (s *fakeImages) add(img Image, data []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if img.Status == "" {
		img.Status = "active"
	}
	if img.Size == 0 {
		img.Size = int64(len(data))
	}
	s.images[img.ID], s.data[img.ID] = img, data
}

func (s *fakeImages) Image(_ context.Context, id string) (Image, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	img, ok := s.images[id]
	if !ok {
		return Image{}, fmt.Errorf("image %s: %w", id, errs.ErrNotFound)
	}
	return img, nil
}

func (s *fakeImages) Download(ctx context.Context, id string) (io.ReadCloser, error) {
	s.mu.Lock()
	s.downloads++
	data, gate := s.data[id], s.gate
	s.mu.Unlock()
	if gate != nil {
		select {
		case <-gate:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	return io.NopCloser(bytes.NewReader(data)), nil
}
