// Package rbdstore keeps images in Ceph RBD exactly as Glance's RBD store
// does, so cowdisk nodes, Nova and Cinder can clone them: image
// <pool>/<image-id> (format 2), snapshot "snap", location
// rbd://<fsid>/<pool>/<image-id>/snap.
package rbdstore

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/bits"
	"time"

	"github.com/cowdisk/cowdisk/internal/ceph"
	"github.com/cowdisk/cowdisk/internal/errs"
	"github.com/cowdisk/cowdisk/internal/imagesvc/store"
	"github.com/cowdisk/cowdisk/internal/rbdloc"
)

// SnapName is the snapshot every image gets, as glance_store names it.
const SnapName = "snap"

// DefaultChunkSize is glance_store's rbd_store_chunk_size (8 MiB); it is
// also the object size, so a skipped zero chunk is one object not stored.
const DefaultChunkSize = 8 << 20

// DefaultWriteSize and DefaultWorkers gave the best upload rate on the
// dev cluster (1 OSD): 4 MiB writes, 8 in flight, beat one 8 MiB object per
// write with 4 in flight by 10-40%; more workers or smaller writes lost
// again. go-ceph has no AIO, so in-flight writes are goroutines.
const (
	DefaultWriteSize = 4 << 20
	DefaultWorkers   = 8
)

// Config chooses the pool and image layout.
type Config struct {
	Pool string
	// ChunkSize is the object size and the write unit; a power of two
	// from 4 KiB to 32 MiB. Zero means DefaultChunkSize.
	ChunkSize int
	// Features of new images; zero means the cluster's
	// rbd_default_features, as glance_store and Nova use. Layering is
	// always added: without it no disk can be cloned from the image.
	Features uint64
	// WriteSize is the unit of the parallel writes (a power of two, at most
	// ChunkSize); zero means DefaultWriteSize or ChunkSize if smaller.
	WriteSize int
	// Workers writing in parallel; zero means DefaultWorkers.
	Workers int
	// ProtectSnapshot protects "snap" after creating it. Clone format 1
	// (clusters before mimic, or rbd_default_clone_format=1 on the
	// cloning side, as older Nova/Cinder have) refuses an unprotected
	// parent; format 2 does not care. glance_store always protects, and
	// internal/ceph has no probe for the clone format, so the server turns
	// this on by default.
	ProtectSnapshot bool
	// Remove controls retries when an image to delete is busy (open by a
	// reader); zero means 5 tries 1 s apart, then the trash.
	Remove ceph.RemoveOptions
}

// Store is an RBD pool of images.
type Store struct {
	c       *ceph.Cluster
	cfg     Config
	readers readers
}

var (
	_ store.Store       = (*Store)(nil)
	_ store.Hasher      = (*Store)(nil)
	_ store.Teeing      = (*Store)(nil)
	_ store.SlowSweeper = (*Store)(nil)
)

// New returns a store in cfg.Pool of c; the pool must exist.
func New(c *ceph.Cluster, cfg Config) (*Store, error) {
	if cfg.Pool == "" {
		return nil, fmt.Errorf("rbd store: no pool: %w", errs.ErrInvalid)
	}
	if cfg.ChunkSize == 0 {
		cfg.ChunkSize = DefaultChunkSize
	}
	if cfg.ChunkSize < 4<<10 || cfg.ChunkSize > 32<<20 || bits.OnesCount(uint(cfg.ChunkSize)) != 1 {
		return nil, fmt.Errorf("rbd store: chunk size %d is not a power of two from 4 KiB to 32 MiB: %w",
			cfg.ChunkSize, errs.ErrInvalid)
	}
	if cfg.WriteSize == 0 {
		cfg.WriteSize = min(DefaultWriteSize, cfg.ChunkSize)
	}
	if cfg.Workers == 0 {
		cfg.Workers = DefaultWorkers
	}
	if cfg.WriteSize < 4<<10 || cfg.WriteSize > cfg.ChunkSize || bits.OnesCount(uint(cfg.WriteSize)) != 1 {
		return nil, fmt.Errorf("rbd store: write size %d is not a power of two from 4 KiB to the chunk size: %w",
			cfg.WriteSize, errs.ErrInvalid)
	}
	features, err := imageFeatures(c, cfg.Features)
	if err != nil {
		return nil, err
	}
	cfg.Features = features
	if cfg.Remove == (ceph.RemoveOptions{}) {
		// An image being read (a download, a node importing it) is busy
		// for a moment; a DELETE request should not hang for a minute.
		cfg.Remove = ceph.RemoveOptions{Retries: 5, Interval: time.Second, TrashAsLastResort: true}
	}
	return &Store{c: c, cfg: cfg}, nil
}

// imageFeatures resolves the features of new images: asked, or else the
// cluster's default, plus layering. With no cluster (New called only to
// check a configuration before connecting) the default stays unresolved.
func imageFeatures(c *ceph.Cluster, asked uint64) (uint64, error) {
	f := asked
	if f == 0 && c == nil {
		return 0, nil
	}
	if f == 0 {
		var err error
		if f, err = c.DefaultFeatures(); err != nil {
			return 0, fmt.Errorf("rbd store: %w", err)
		}
	}
	f |= ceph.FeatureLayering
	if err := ceph.ValidateFeatures(f); err != nil {
		return 0, fmt.Errorf("rbd store: %w", err)
	}
	return f, nil
}

// Features are the features new images get (layering included).
func (s *Store) Features() uint64 { return s.cfg.Features }

// ID implements store.Store.
func (s *Store) ID() string { return "rbd" }

// HashesData implements store.Hasher: ceph.Import hashes while it writes.
func (s *Store) HashesData() bool { return true }

func (s *Store) options(tees []io.Writer) ceph.ImportOptions {
	return ceph.ImportOptions{
		ImageOptions: ceph.ImageOptions{Features: s.cfg.Features,
			ObjectSizeOrder: bits.TrailingZeros(uint(s.cfg.ChunkSize))},
		Workers: s.cfg.Workers, ChunkSize: s.cfg.WriteSize, Tees: tees,
	}
}

// Put implements store.Store: a thin parallel import under a temporary
// name, published under id only when complete, then the snapshot. If the
// snapshot fails the image is removed again.
func (s *Store) Put(ctx context.Context, id string, r io.Reader, size int64) (store.Result, error) {
	return s.PutTee(ctx, id, r, size, nil)
}

// PutTee implements store.Teeing: the tees run in ceph.Import's pipeline.
func (s *Store) PutTee(ctx context.Context, id string, r io.Reader, size int64, tees []io.Writer) (store.Result, error) {
	if err := s.removeSnapless(ctx, id); err != nil {
		return store.Result{}, err
	}
	res, err := s.stage(ctx, id, r, size, tees)
	if err != nil {
		return store.Result{}, fmt.Errorf("rbd store: %w", err)
	}
	err = s.c.CreateSnapshot(ctx, s.cfg.Pool, id, SnapName)
	if err == nil && s.cfg.ProtectSnapshot {
		err = s.c.ProtectSnapshot(ctx, s.cfg.Pool, id, SnapName)
	}
	if err != nil {
		rerr := s.c.Remove(context.WithoutCancel(ctx), s.cfg.Pool, id, s.cfg.Remove)
		return store.Result{}, fmt.Errorf("rbd store: %w", errors.Join(err, rerr))
	}
	loc := rbdloc.Location{FSID: s.c.FSID(), Pool: s.cfg.Pool, Image: id, Snapshot: SnapName}
	return store.Result{Size: int64(res.Size), Location: loc.String(), MD5: res.MD5, SHA512: res.SHA512,
		Metadata: map[string]string{"store": s.ID()}}, nil
}

// stage imports r under a temporary name (swept after a crash by its image
// id, recover.go) and publishes it as id; the catalog lets one upload at a
// time claim id, so a plain rename is exact (ceph.Publish).
func (s *Store) stage(ctx context.Context, id string, r io.Reader, size int64, tees []io.Writer) (ceph.ImportResult, error) {
	tmp := ceph.TempName(id)
	res, err := s.c.Import(ctx, r, size, s.cfg.Pool, tmp, s.options(tees))
	if err != nil {
		return res, err
	}
	if err := s.c.Publish(ctx, s.cfg.Pool, tmp, id, ""); err != nil {
		s.c.Discard(ctx, s.cfg.Pool, tmp, err)
		return res, err
	}
	return res, nil
}

// locate parses a location and refuses any outside this cluster and pool,
// so a tampered catalog row cannot make the service read or delete other
// pools' images.
func (s *Store) locate(location string) (rbdloc.Location, error) {
	l, err := rbdloc.Parse(location)
	if err != nil {
		return l, fmt.Errorf("rbd store: %w", err)
	}
	if l.FSID != s.c.FSID() || l.Pool != s.cfg.Pool || l.Snapshot != SnapName || ceph.IsTemp(l.Image) {
		return l, fmt.Errorf("rbd store: location %s is not an image of pool %s in cluster %s: %w",
			location, s.cfg.Pool, s.c.FSID(), errs.ErrBadLocation)
	}
	return l, nil
}

// Open implements store.Store; reads come from the snapshot, which never
// changes, through read-ahead.
func (s *Store) Open(ctx context.Context, location string) (store.Object, error) {
	l, err := s.locate(location)
	if err != nil {
		return nil, err
	}
	r, err := s.readers.get(l.String(), func() (source, error) {
		return s.c.OpenReader(ctx, l.Pool, l.Image, l.Snapshot)
	})
	if err != nil {
		return nil, fmt.Errorf("rbd store: %w", err)
	}
	return newReadahead(r, s.cfg.ChunkSize, 4), nil
}

// Close closes the snapshots kept open for readers; call it before the
// cluster connection is closed. Open still works after it, unshared.
func (s *Store) Close() error {
	s.readers.close()
	return nil
}

// Delete implements store.Store. Clones of the snapshot (disks) make it
// an *store.InUseError with their number, and nothing is removed.
func (s *Store) Delete(ctx context.Context, location string) error {
	l, err := s.locate(location)
	if err != nil {
		return err
	}
	if err := s.refuseClones(ctx, l); err != nil {
		return err
	}
	s.readers.evict(l.String()) // a shared open handle would keep the image busy
	// Remove unprotects and removes the snapshots, then the image; it
	// checks for clones again, so a clone made since the check above still
	// stops it (ErrInUse), and a missing image is success.
	err = s.c.Remove(ctx, l.Pool, l.Image, s.cfg.Remove)
	if errors.Is(err, errs.ErrInUse) {
		if cerr := s.refuseClones(ctx, l); cerr != nil {
			return cerr
		}
	}
	if err != nil {
		return fmt.Errorf("rbd store: %w", err)
	}
	return nil
}

func (s *Store) refuseClones(ctx context.Context, l rbdloc.Location) error {
	kids, err := s.c.Children(ctx, l.Pool, l.Image, l.Snapshot)
	if errors.Is(err, errs.ErrNotFound) {
		return nil // image or snapshot already gone
	}
	if err != nil {
		return fmt.Errorf("rbd store: %w", err)
	}
	if len(kids) > 0 {
		return &store.InUseError{Location: l.String(), Count: len(kids)}
	}
	return nil
}
