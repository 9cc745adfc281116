package provisioner

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"regexp"
	"strings"
	"time"

	"github.com/cowdisk/cowdisk/internal/ceph"
	"github.com/cowdisk/cowdisk/internal/convert"
	"github.com/cowdisk/cowdisk/internal/errs"
	"github.com/cowdisk/cowdisk/internal/imageformat"
)

// RBDConfig configures the RBD backend.
type RBDConfig struct {
	ImagesPool string // the image service's pool (default allow-list)
	VMsPool    string // instance disks and bases
	Allow      AllowList
	// Node names this agent in temporary names (letters and digits only), so
	// it reaps only its own leftovers in a shared pool.
	Node string
	// NeverDownload refuses the fallback (Nova's never_download_image_if_on_rbd).
	NeverDownload bool
	// SoftDepth warns and HardDepth flattens a new disk whose clone chain
	// reaches it (ceph-csi's limits; deep chains slow every read).
	SoftDepth, HardDepth int
	ImportWorkers        int
	MaxFetches           int    // fallback fetches at once (0: DefaultMaxFetches)
	TempDir              string // for formats qemu-img converts ("" = os.TempDir)
	Limits               imageformat.Limits
	Convert              convert.Options
	Bounds               Bounds
	Auth                 Auth // for the libvirt <disk>
	// Features of new disks and bases; zero: layering only. `serve node`
	// sets the cluster's rbd_default_features (plus layering), the set Nova
	// gives its disks, so cowdisk's disks behave like Nova's (exclusive
	// lock, object map, fast diff).
	Features uint64
}

// Auth is the cephx identity the hypervisor uses for the disk.
type Auth struct {
	User       string // without "client."
	SecretUUID string // libvirt secret holding the key
}

var nodeRE = regexp.MustCompile(`^[A-Za-z0-9]{1,32}$`)

func (c *RBDConfig) defaults() error {
	if c.VMsPool == "" || c.ImagesPool == "" {
		return fmt.Errorf("rbd backend: images and vms pools are required: %w", errs.ErrInvalid)
	}
	if len(c.Allow.Pools) == 0 {
		c.Allow.Pools = []string{c.ImagesPool}
	}
	if c.Allow.Snapshot == "" {
		c.Allow.Snapshot = "snap"
	}
	if c.Node == "" {
		c.Node = "node"
	}
	if !nodeRE.MatchString(c.Node) {
		return fmt.Errorf("node name %q: want 1-32 letters or digits: %w", c.Node, errs.ErrInvalid)
	}
	if c.SoftDepth == 0 {
		c.SoftDepth = 4
	}
	if c.HardDepth == 0 {
		c.HardDepth = 8
	}
	c.Bounds = c.Bounds.withDefaults()
	c.Limits = c.Bounds.limits(c.Limits)
	// The converter inspects its input again, under the same limits, and
	// qemu-img's output goes where the download went.
	c.Convert.Limits = c.Limits
	if c.Convert.TempDir == "" {
		c.Convert.TempDir = c.TempDir
	}
	return nil
}

// RBD keeps disks as RBD images "<vms-pool>/<instance>_<name>".
type RBD struct {
	c       Cluster
	images  ImageSource
	cfg     RBDConfig
	log     *slog.Logger
	stats   Stats
	bases   flight[ceph.SnapRef]
	disks   diskLocks
	parents parentCache
	fetches slots
	// Reap's retries of busy temporaries; zero means 12 x 5 s. Tests
	// shorten them.
	reapRetries  int
	reapInterval time.Duration
	// probe is probeSource; unit tests on the fake cluster, which holds
	// no bytes, replace it.
	probe func(ctx context.Context, ref ceph.SnapRef, img Image) (sourceProbe, error)
}

// NewRBD makes the RBD backend.
func NewRBD(c Cluster, images ImageSource, cfg RBDConfig, log *slog.Logger) (*RBD, error) {
	if err := cfg.defaults(); err != nil {
		return nil, err
	}
	if log == nil {
		log = slog.Default()
	}
	b := &RBD{c: c, images: images, cfg: cfg, fetches: newSlots(cfg.MaxFetches), log: log.With("backend", "rbd", "pool", cfg.VMsPool)}
	b.probe = b.probeSource
	return b, nil
}

// Stats are the backend's byte counters.
func (b *RBD) Stats() *Stats { return &b.stats }

// Create makes the disk, or returns it when it already exists from the same
// image.
func (b *RBD) Create(ctx context.Context, req Request) (Disk, error) {
	start := time.Now()
	unlock, err := b.disks.lock(ctx, diskImageName(req.InstanceID, cmp.Or(req.Name, DefaultDiskName)))
	if err != nil {
		return Disk{}, err
	}
	defer unlock()
	ctx, clock := withStepClock(ctx) // after the lock: a wait is no step's
	img, d, done, err := begin(ctx, b.Get, b.images, &req, b.cfg.Bounds)
	if done || err != nil {
		return d, err
	}
	mark(ctx, StepLookup)
	d, method, reasons, err := b.make(ctx, img, req, true)
	if errors.Is(err, errStaleParent) { // the cached snapshot is gone: decide afresh
		d, method, reasons, err = b.make(ctx, img, req, false)
	}
	if err != nil {
		return Disk{}, err
	}
	if d.Existed {
		return d, nil
	}
	d.Method, d.Reasons, d.Elapsed, d.Steps = method, reasons, time.Since(start), clock.snapshot()
	b.log.InfoContext(ctx, "disk created", "instance", d.InstanceID, "disk", d.Image, "image_id", img.ID,
		"method", method, "parent", d.Parent, "reasons", reasons, "elapsed", d.Elapsed)
	return d, nil
}

// make decides how to make the disk (with the parent cache, when cached)
// and makes it.
func (b *RBD) make(ctx context.Context, img Image, req Request, cached bool) (d Disk, method Method, reasons []string, err error) {
	p := &prober{b: b, img: img, cached: cached}
	parent, reasons, ok := chooseLocation(ctx, p, b.cfg.Allow, img, b.log)
	method = MethodClone
	switch {
	case ok:
		d, err = b.cloneChecked(ctx, parent, img, req, p)
	case b.cfg.NeverDownload:
		err = fmt.Errorf("image %s cannot be cloned (%s) and downloading is disabled: %w", img.ID, strings.Join(reasons, "; "), errs.ErrRefused)
	default:
		method = MethodBaseClone
		parent, err = b.bases.Do(ctx, img.ID, func(ctx context.Context) (ceph.SnapRef, error) { return b.ensureBase(ctx, img) })
		if err == nil {
			d, err = b.cloneDisk(ctx, parent, req)
		} else if errors.Is(err, errStaleBase) {
			method, reasons = MethodImport, append(reasons, err.Error())
			d, err = b.importDisk(ctx, img, req)
		}
	}
	return d, method, reasons, err
}

// cloneDisk clones parent into the disk. The clone is made under a
// temporary name of this node and renamed into place once it is complete
// (owner recorded, grown, flattened): librbd's clone is several steps
// (create, attach parent, ...) and a crash between them leaves an image that
// cannot be opened or has no parent; under the final name that would be a
// disk that can neither be used nor deleted, while under a temporary name
// the start-up reaper removes it. The rename needs no exclusive claim:
// Create holds the disk's lock (disklock.go) and a disk name has one writer,
// so the only extra round trips over a bare clone are the metadata write and
// the rename.
func (b *RBD) cloneDisk(ctx context.Context, parent ceph.SnapRef, req Request) (Disk, error) {
	f, err := b.parentFacts(ctx, parent)
	if err != nil {
		return Disk{}, err
	}
	return b.cloneFrom(ctx, parent, f, req)
}

// errStaleParent: a clone from cached facts found its parent gone; Create
// then decides again without the cache (the fallback may apply now).
var errStaleParent = errors.New("cached clone parent is gone")

// parentFacts stats parent; only a parent that is itself a clone costs a
// walk of its chain.
func (b *RBD) parentFacts(ctx context.Context, parent ceph.SnapRef) (parentFacts, error) {
	info, err := b.c.Stat(ctx, parent.Pool, parent.Image)
	if err != nil {
		return parentFacts{}, err
	}
	return b.factsOf(ctx, parent, info)
}

// factsOf makes parentFacts from the parent's stat.
func (b *RBD) factsOf(ctx context.Context, parent ceph.SnapRef, info ceph.ImageInfo) (parentFacts, error) {
	var err error
	f := parentFacts{size: info.Size, depth: 1}
	if info.Parent != nil {
		if f.depth, err = b.c.CloneDepth(ctx, parent.Pool, parent.Image); err != nil {
			return parentFacts{}, err
		}
		f.depth++
	}
	return f, nil
}

func (b *RBD) cloneFrom(ctx context.Context, parent ceph.SnapRef, f parentFacts, req Request) (Disk, error) {
	size, err := diskSize(req, f.size)
	if err != nil {
		return Disk{}, err
	}
	depth := f.depth
	if depth >= b.cfg.SoftDepth {
		b.log.WarnContext(ctx, "clone depth at soft limit", "parent", parent.String(), "depth", depth, "soft", b.cfg.SoftDepth, "hard", b.cfg.HardDepth)
	}
	final := diskImageName(req.InstanceID, req.Name)
	flatten := depth >= b.cfg.HardDepth
	name := ceph.StageName(final, b.cfg.Node)
	mark(ctx, StepDecision)
	if err := b.c.Clone(ctx, parent, b.cfg.VMsPool, name, ceph.ImageOptions{Features: b.cfg.Features}); errors.Is(err, errs.ErrExists) {
		return existing(ctx, b.Get, req)
	} else if err != nil {
		return Disk{}, err
	}
	if err := b.record(ctx, name, req, b.methodOf(parent.Pool, parent.Image)); err != nil {
		return Disk{}, err
	}
	d := b.newDisk(req, size, parent.String())
	if flatten {
		d.Parent = ""
	}
	if err := b.commit(ctx, name, f.size, size, flatten, req); err != nil {
		return b.lostPublish(ctx, req, err)
	}
	return d, nil
}

// lostPublish answers a create whose publish found the name taken (a disk
// made by someone else, against the one-writer rule) as a repeat would be
// answered.
func (b *RBD) lostPublish(ctx context.Context, req Request, err error) (Disk, error) {
	if !errors.Is(err, errs.ErrExists) {
		return Disk{}, err
	}
	return existing(ctx, b.Get, req)
}

func (b *RBD) newDisk(req Request, size uint64, parent string) Disk {
	return Disk{InstanceID: req.InstanceID, Name: req.Name, Pool: b.cfg.VMsPool, Image: diskImageName(req.InstanceID, req.Name),
		SizeBytes: size, ImageID: req.ImageID, Parent: parent, Owner: req.Owner}
}

// commit grows tmp to size, flattens it if asked and publishes it under the
// disk's name by a plain rename (Create holds the disk's lock; librbd's
// rename refuses a taken name). On any failure tmp is removed; errs.ErrExists
// means the disk exists already.
func (b *RBD) commit(ctx context.Context, tmp string, have, size uint64, flatten bool, req Request) error {
	mark(ctx, StepClone)
	var err error
	if size > have {
		err = b.c.Resize(ctx, b.cfg.VMsPool, tmp, size, false)
	}
	if err == nil && flatten {
		b.log.WarnContext(ctx, "clone depth at hard limit, flattening", "disk", tmp, "limit", b.cfg.HardDepth)
		err = b.c.Flatten(ctx, b.cfg.VMsPool, tmp)
	}
	mark(ctx, StepResize)
	if err == nil {
		err = b.c.Rename(ctx, b.cfg.VMsPool, tmp, diskImageName(req.InstanceID, req.Name))
	}
	mark(ctx, StepPublish)
	if err != nil {
		b.cleanup(ctx, tmp, err)
	}
	return err
}

// cleanup removes name after the failure cause (in the background when the
// cluster stalled; the Cluster owns and drains that work).
func (b *RBD) cleanup(ctx context.Context, name string, cause error) {
	b.c.Discard(ctx, b.cfg.VMsPool, name, cause)
}
