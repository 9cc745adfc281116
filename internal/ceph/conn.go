// Package ceph is cowdisk's only adapter to Ceph: it talks to librados and
// librbd through go-ceph and hands the rest of the system plain Go types and
// the sentinels of internal/errs.
//
// cgo calls ignore context cancellation, so every call here checks ctx
// between steps, and the connection carries client-side timeouts that bound
// how long a single librados call can block.
package ceph

import (
	"context"
	"fmt"
	"os"
	"sync"
	"time"

	"github.com/ceph/go-ceph/rados"
)

// Config names a cluster and a cephx identity.
type Config struct {
	ConfPath, User, Keyring string // User without the "client." prefix
	// Timeouts are applied before Connect; zero means 10s / 10s / 30s.
	MountTimeout, MonOpTimeout, OSDOpTimeout time.Duration
	// NoImageCache turns librbd's cache off (rbd_cache=false) for images
	// this process opens. The node agent writes each base once, in large
	// object-sized writes, and never reads it back; librbd's cache stays in
	// writethrough until the first flush (the import's commit), so it would
	// only keep a second copy of up to rbd_cache_size (32 MiB) per image
	// being written.
	NoImageCache bool
}

// ConfigFromEnv reads CEPH_CONF, CEPH_USER (default admin) and CEPH_KEYRING.
func ConfigFromEnv() Config {
	c := Config{ConfPath: os.Getenv("CEPH_CONF"), User: os.Getenv("CEPH_USER"), Keyring: os.Getenv("CEPH_KEYRING")}
	if c.User == "" {
		c.User = "admin"
	}
	return c
}

func (c Config) withDefaults() Config {
	if c.User == "" {
		c.User = "admin"
	}
	for _, d := range []struct {
		v   *time.Duration
		def time.Duration
	}{{&c.MountTimeout, 10 * time.Second}, {&c.MonOpTimeout, 10 * time.Second}, {&c.OSDOpTimeout, 30 * time.Second}} {
		if *d.v <= 0 {
			*d.v = d.def
		}
	}
	return c
}

// options are the librados settings applied before Connect. Without them a
// call to an unreachable monitor or a stuck OSD blocks forever, and no
// context can interrupt a cgo call.
func (c Config) options() [][2]string {
	opts := [][2]string{
		{"client_mount_timeout", seconds(c.MountTimeout)},
		{"rados_mon_op_timeout", seconds(c.MonOpTimeout)},
		{"rados_osd_op_timeout", seconds(c.OSDOpTimeout)},
	}
	if c.Keyring != "" {
		opts = append(opts, [2]string{"keyring", c.Keyring})
	}
	if c.NoImageCache {
		opts = append(opts, [2]string{"rbd_cache", "false"})
	}
	return opts
}

func seconds(d time.Duration) string { return fmt.Sprintf("%g", d.Seconds()) }

// shared is one librados connection used by every Cluster handle with the
// same (conf, user). ready is closed when dialing ended; then either conn
// and fsid or err are set.
type shared struct {
	key   string
	ready chan struct{}
	conn  *rados.Conn
	fsid  string
	err   error
	refs  int         // guarded by registry
	idle  *time.Timer // set while unreferenced and lingering; guarded by registry
}

// linger is how long an unreferenced connection stays up before it is shut
// down. librbd finishes work in its own threads after a call has returned
// (and cleanups of a stalled cluster run in goroutines of their own); a
// Shutdown under that work aborts the whole process in librados
// (ceph_assert(initialized) in the Objecter). Lingering also makes a Close
// followed by a Connect, as tests and reconnect loops do, cost nothing.
var linger = 2 * time.Minute

var registry = struct {
	sync.Mutex
	conns map[string]*shared
}{conns: map[string]*shared{}}

// Cluster is a handle on a shared connection. Close drops this handle's
// reference; the connection shuts down when the last handle is closed.
type Cluster struct {
	s    *shared
	cfg  Config
	once sync.Once
	bg   sync.WaitGroup // background cleanups (discard.go), drained by Close
}

// Connect returns a handle on the shared connection for (conf, user),
// connecting first if there is none. A librados connection is expensive
// (threads, sockets, a map subscription), so one process keeps one per
// identity, as ceph-csi's connection pool does.
//
// Dialing runs in its own goroutine: librados cannot be interrupted, but
// the caller can stop waiting when ctx ends, and a slow cluster never
// blocks Connect calls for other clusters.
func Connect(ctx context.Context, cfg Config) (*Cluster, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()
	s := acquire(cfg)
	select {
	case <-s.ready:
	case <-ctx.Done():
		release(s)
		return nil, ctx.Err()
	}
	if s.err != nil {
		release(s)
		return nil, s.err
	}
	return &Cluster{s: s, cfg: cfg}, nil
}

// acquire takes a reference on the entry for cfg, starting a dial if
// there is no entry.
func acquire(cfg Config) *shared {
	// Options that change librados' own settings make a connection of
	// their own: one shared with a caller that wants other settings would
	// silently carry the first caller's.
	key := fmt.Sprintf("%s\x00%s\x00%t", cfg.ConfPath, cfg.User, cfg.NoImageCache)
	registry.Lock()
	defer registry.Unlock()
	s, ok := registry.conns[key]
	if !ok {
		s = &shared{key: key, ready: make(chan struct{})}
		registry.conns[key] = s
		go s.dial(cfg)
	}
	if s.idle != nil {
		s.idle.Stop()
		s.idle = nil
	}
	s.refs++
	return s
}

// dial connects s. A failed entry is dropped at once so that the next
// Connect tries again; waiters that already hold it see the error.
func (s *shared) dial(cfg Config) {
	conn, fsid, err := dial(cfg)
	registry.Lock()
	defer registry.Unlock()
	s.conn, s.fsid, s.err = conn, fsid, err
	if err != nil {
		delete(registry.conns, s.key)
	}
	close(s.ready)
	if err == nil && s.refs == 0 { // every waiter gave up
		delete(registry.conns, s.key)
		conn.Shutdown()
	}
}

// release drops one reference; the last one schedules the shutdown after
// linger, unless the connection is taken again before then.
func release(s *shared) {
	registry.Lock()
	defer registry.Unlock()
	s.refs--
	select {
	case <-s.ready:
	default:
		return // still dialing; dial shuts down if nobody is left
	}
	if s.refs == 0 && s.err == nil {
		s.idle = time.AfterFunc(linger, func() { s.shutdownIdle() })
	}
}

// shutdownIdle shuts s down if it is still unreferenced.
func (s *shared) shutdownIdle() {
	registry.Lock()
	if s.refs != 0 || s.idle == nil || registry.conns[s.key] != s {
		registry.Unlock()
		return
	}
	delete(registry.conns, s.key)
	s.idle = nil
	registry.Unlock()
	s.conn.Shutdown()
}

// dial makes and connects a new librados connection.
func dial(cfg Config) (*rados.Conn, string, error) {
	what := fmt.Sprintf("cluster conf=%q user=%q", cfg.ConfPath, cfg.User)
	conn, err := rados.NewConnWithUser(cfg.User)
	if err != nil {
		return nil, "", translate(err, "connect", what)
	}
	if err := configure(conn, cfg); err != nil {
		conn.Shutdown()
		return nil, "", translate(err, "configure", what)
	}
	if err := conn.Connect(); err != nil {
		conn.Shutdown()
		return nil, "", translate(err, "connect", what)
	}
	fsid, err := conn.GetFSID()
	if err != nil {
		conn.Shutdown()
		return nil, "", translate(err, "read fsid of", what)
	}
	return conn, fsid, nil
}

func configure(conn *rados.Conn, cfg Config) error {
	var err error
	if cfg.ConfPath != "" {
		err = conn.ReadConfigFile(cfg.ConfPath)
	} else {
		err = conn.ReadDefaultConfigFile()
	}
	if err != nil {
		return fmt.Errorf("read %q: %w", cfg.ConfPath, err)
	}
	for _, o := range cfg.options() {
		if err := conn.SetConfigOption(o[0], o[1]); err != nil {
			return fmt.Errorf("set %s: %w", o[0], err)
		}
	}
	return nil
}

// Close waits for this handle's background cleanups (each bounded by the
// client's op timeouts), then drops its reference. Calling it twice is
// harmless.
func (c *Cluster) Close() error {
	c.once.Do(func() {
		c.bg.Wait()
		release(c.s)
	})
	return nil
}

// FSID is the cluster's fsid, read once at connect time.
func (c *Cluster) FSID() string { return c.s.fsid }

// Config is the configuration this handle was opened with, defaults applied.
func (c *Cluster) Config() Config { return c.cfg }

// ioctx opens an I/O context on pool. A context is cheap (a pool id lookup
// in the osdmap), and opening one per call means a pool that was deleted
// and recreated is never reached through a stale handle.
func (c *Cluster) ioctx(ctx context.Context, pool string) (*rados.IOContext, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	io, err := c.s.conn.OpenIOContext(pool)
	if err != nil {
		return nil, translate(err, "open", poolSpec(pool))
	}
	return io, nil
}

// withPool runs fn with an I/O context on pool.
func (c *Cluster) withPool(ctx context.Context, pool string, fn func(*rados.IOContext) error) error {
	io, err := c.ioctx(ctx, pool)
	if err != nil {
		return err
	}
	defer io.Destroy()
	return fn(io)
}
