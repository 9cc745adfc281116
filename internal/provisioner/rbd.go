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
		d, err = b.baseClone(ctx, img, req)
		if errors.Is(err, errStaleBase) {
			method, reasons = MethodImport, append(reasons, err.Error())
			d, err = b.importDisk(ctx, img, req)
		}
	}
	return d, method, reasons, err
}

// baseClone clones the disk from the image's base, making the base first
// if it is missing. The base's snapshot is immutable (its name carries the
// image's hash), so its facts are cached like a clone source's
// (parentcache.go): a warm disk then costs no open of the base before the
// clone. A clone that finds a cached base gone (pruned) looks again.
func (b *RBD) baseClone(ctx context.Context, img Image, req Request) (Disk, error) {
	key := keyOf(ceph.SnapRef{Pool: b.cfg.VMsPool, Image: basePrefix + img.ID, Snap: baseSnapName(img)}, img)
	if f, ok := b.parents.get(key); ok {
		d, err := b.cloneFrom(ctx, key.ref, f, req)
		if !errors.Is(err, errs.ErrNotFound) {
			return d, err
		}
		b.parents.drop(key)
	}
	parent, err := b.bases.Do(ctx, img.ID, func(ctx context.Context) (ceph.SnapRef, error) { return b.ensureBase(ctx, img) })
	if err != nil {
		return Disk{}, err
	}
	f, err := b.parentFacts(ctx, parent)
	if err != nil {
		return Disk{}, err
	}
	b.parents.put(keyOf(parent, img), f)
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
	mark(ctx, StepDecision)
	if err := b.cloneInPlace(ctx, parent, final); errors.Is(err, errDiskComplete) {
		return existing(ctx, b.Get, req)
	} else if err != nil {
		return Disk{}, err
	}
	mark(ctx, StepClone)
	if err := b.finish(ctx, final, growTo(f.size, size), flatten, diskMeta(req, b.methodOf(parent.Pool, parent.Image))); err != nil {
		return Disk{}, err
	}
	d := b.newDisk(req, size, parent.String())
	if flatten {
		d.Parent = ""
	}
	return d, nil
}

// cloneInPlace clones parent straight under the disk's name, with no
// temporary name and no rename. librbd's clone is several steps (create,
// attach parent, ...), and a crash between them leaves an image that may not
// open; so the name is first recorded as an intent in this node's journal,
// and the disk counts only once finish has written its completion marker.
// Until then Get treats it as absent, and after a crash the reaper, or a
// repeat create of the same disk, removes it: nothing is left that can
// neither be used nor removed. librbd refuses a taken name, which is the
// existence check: a taken name is a complete disk (errDiskComplete) or this
// node's create cut short, which is removed and cloned again. Create holds
// the disk's lock and a disk name has one writer (its instance's node), so
// nobody else can be making it meanwhile.
func (b *RBD) cloneInPlace(ctx context.Context, parent ceph.SnapRef, final string) error {
	pool, node := b.cfg.VMsPool, b.cfg.Node
	if err := b.c.Intent(ctx, pool, node, final); err != nil {
		return err
	}
	o := ceph.ImageOptions{Features: b.cfg.Features}
	err := b.c.Clone(ctx, parent, pool, final, o)
	if errors.Is(err, errs.ErrExists) {
		if err = b.removeIncomplete(ctx, final); err == nil {
			err = b.c.Clone(ctx, parent, pool, final, o)
		}
	}
	switch {
	case errors.Is(err, errDiskComplete):
		b.settle(ctx, final) // the disk is someone's: never discard it
	case err != nil:
		b.cleanup(ctx, final, err) // the name was free: whatever is there is ours
	}
	return err
}

// errDiskComplete: the disk's name holds a complete disk.
var errDiskComplete = errors.New("disk exists")

// removeIncomplete removes a disk without its completion marker: what a
// create of this node cut short left (Create found no disk there).
func (b *RBD) removeIncomplete(ctx context.Context, final string) error {
	pool := b.cfg.VMsPool
	_, meta, err := b.c.StatMetadata(ctx, pool, final)
	switch {
	case errors.Is(err, errs.ErrNotFound): // gone, or a header cut short: Remove copes
	case err != nil:
		return err
	case meta[ceph.MetaComplete] != "":
		return fmt.Errorf("disk %s/%s: %w", pool, final, errDiskComplete)
	}
	b.log.WarnContext(ctx, "removing a disk a crash left incomplete", "disk", final)
	return b.c.Remove(ctx, pool, final, ceph.RemoveOptions{Retries: -1})
}

// finish completes a disk made in place: flattens it if asked, grows it to
// grow bytes (0: no resize), records its owner and origin with the
// completion marker in one atomic write, and settles its intent. On failure
// the disk is removed.
func (b *RBD) finish(ctx context.Context, final string, grow uint64, flatten bool, meta map[string]string) error {
	var err error
	if flatten {
		b.log.WarnContext(ctx, "clone depth at hard limit, flattening", "disk", final, "limit", b.cfg.HardDepth)
		err = b.c.Flatten(ctx, b.cfg.VMsPool, final)
	}
	if err == nil {
		err = b.c.Complete(ctx, b.cfg.VMsPool, final, grow, meta)
	}
	mark(ctx, StepResize)
	if err != nil {
		b.cleanup(ctx, final, err)
		return fmt.Errorf("finish disk %s/%s: %w", b.cfg.VMsPool, final, err)
	}
	b.settle(ctx, final)
	mark(ctx, StepPublish)
	return nil
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

// publishStaged completes the staged disk tmp (grown by grow, as in finish)
// and publishes it under the disk's name by a plain rename (Create holds the
// disk's lock; librbd's rename refuses a taken name). On any failure tmp is
// removed; errs.ErrExists means the disk exists already.
func (b *RBD) publishStaged(ctx context.Context, tmp string, grow uint64, req Request, method Method) error {
	err := b.c.Complete(ctx, b.cfg.VMsPool, tmp, grow, diskMeta(req, method))
	mark(ctx, StepResize)
	if err == nil {
		err = b.c.Publish(ctx, b.cfg.VMsPool, tmp, diskImageName(req.InstanceID, req.Name), "")
	}
	if err != nil {
		b.cleanup(ctx, tmp, err)
		return err
	}
	b.settle(ctx, tmp)
	mark(ctx, StepPublish)
	return nil
}

// growTo is the resize a disk of have bytes needs to be size bytes (0:
// none): only a size asked for above the image costs an open of the disk.
func growTo(have, size uint64) uint64 {
	if size > have {
		return size
	}
	return 0
}

// cleanup removes name, recorded in this node's journal, after the failure
// cause, and settles its record once it is gone (in the background when the
// cluster stalled; the Cluster owns and drains that work).
func (b *RBD) cleanup(ctx context.Context, name string, cause error) {
	b.c.DiscardRecorded(ctx, b.cfg.VMsPool, b.cfg.Node, name, cause)
}

// settle drops the record of name, now published or complete. A record
// left behind is harmless (the reaper finds the image complete or renamed
// away and drops it), so a failure is only logged.
func (b *RBD) settle(ctx context.Context, name string) {
	if err := b.c.Settle(ctx, b.cfg.VMsPool, b.cfg.Node, name); err != nil {
		b.log.WarnContext(ctx, "settling a journal record failed; the reaper drops it", "name", name, "err", err)
	}
}
