package provisioner

import (
	"context"
	"maps"

	"github.com/cowdisk/cowdisk/internal/ceph"
)

// Image metadata of the fake cluster: it lives in the image, so it follows
// renames as librbd's does.

func (f *fakeCluster) SetMetadata(_ context.Context, pool, name string, kv map[string]string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	img, err := f.get(pool, name)
	if err != nil {
		return err
	}
	f.record("set-metadata " + pool + "/" + name)
	if img.meta == nil {
		img.meta = map[string]string{}
	}
	maps.Copy(img.meta, kv)
	return nil
}

func (f *fakeCluster) StatMetadata(ctx context.Context, pool, name string) (ceph.ImageInfo, map[string]string, error) {
	info, err := f.Stat(ctx, pool, name)
	if err != nil {
		return info, nil, err
	}
	kv, err := f.Metadata(ctx, pool, name)
	return info, kv, err
}

// Metadata is for the tests' own checks.
func (f *fakeCluster) Metadata(_ context.Context, pool, name string) (map[string]string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	img, err := f.get(pool, name)
	if err != nil {
		return nil, err
	}
	return maps.Clone(img.meta), nil
}
