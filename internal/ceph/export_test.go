package ceph

import (
	"context"
	"time"
)

// ConfigOption reads a librados setting of the connection.
func (c *Cluster) ConfigOption(name string) (string, error) { return c.s.conn.GetConfigOption(name) }

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

// DropHeader deletes the header object of pool/name, leaving its directory
// entry and id object: the state a create or clone cut short by a crash
// leaves (the name is listed, opening it says ENOENT).
func (c *Cluster) DropHeader(ctx context.Context, pool, name string) error {
	io, err := c.ioctx(ctx, pool)
	if err != nil {
		return err
	}
	defer io.Destroy()
	img, err := openImage(io, pool, name, "", true)
	if err != nil {
		return err
	}
	id, err := img.GetId()
	_ = img.Close()
	if err != nil {
		return err
	}
	return io.Delete("rbd_header." + id)
}

// SetLinger sets how long unreferenced connections stay up; the returned
// func restores it.
func SetLinger(d time.Duration) func() {
	registry.Lock()
	defer registry.Unlock()
	old := linger
	linger = d
	return func() { registry.Lock(); linger = old; registry.Unlock() }
}

// SameConn reports whether two handles share one librados connection.
func SameConn(a, b *Cluster) bool { return a.s == b.s }

// Registered reports whether a connection for cfg is in the registry.
func Registered(cfg Config) bool {
	cfg = cfg.withDefaults()
	registry.Lock()
	defer registry.Unlock()
	_, ok := registry.conns[cfg.ConfPath+"\x00"+cfg.User]
	return ok
}

// Background runs fn as the handle's background cleanup (discard.go).
func (c *Cluster) Background(fn func()) { c.background(fn) }

// SerializeAllOpens makes every open and clone take the open lock, the rule
// before openGate, so a benchmark can compare; the func restores it.
func SerializeAllOpens() func() {
	old := gate.all.Swap(true)
	return func() { gate.all.Store(old) }
}

// SerializedOpens counts the opens and clones that took the open lock.
func SerializedOpens() int64 { return gate.serialized.Load() }

// HoldClaim takes the publish claim of final in pool as Publish does and
// stops there: the state a crash while publishing leaves.
func (c *Cluster) HoldClaim(ctx context.Context, pool, owner, final string) error {
	_, err := c.takeClaim(ctx, pool, owner, final)
	return err
}
