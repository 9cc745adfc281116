package ceph

import (
	"context"
)

// OpenWatcher opens pool/name read-write, which registers a watch on its
// header the way a running VM does (a read-only open does not). Tests use
// it to make an image busy; the returned func closes it.
func (c *Cluster) OpenWatcher(ctx context.Context, pool, name string) (func(), error) {
	io, err := c.ioctx(ctx, pool)
	if err != nil {
		return nil, err
	}
	img, err := openImage(io, pool, name, "", false)
	if err != nil {
		io.Destroy()
		return nil, err
	}
	return func() { _ = img.Close(); io.Destroy() }, nil
}
