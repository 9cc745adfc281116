package provisioner

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"libvirt.org/go/libvirtxml"

	"github.com/cowdisk/cowdisk/internal/errs"
	"github.com/cowdisk/cowdisk/internal/imageformat"
)

// LocalConfig configures the local backend.
type LocalConfig struct {
	Dir           string // holds bases/, disks/ and staging/
	NeverDownload bool
	Limits        imageformat.Limits
	MaxFetches    int // fallback fetches at once (0: DefaultMaxFetches)
	Bounds        Bounds
}

// Local keeps disks as qcow2 overlays ("disks/<instance>_<name>.qcow2") on
// raw bases ("bases/<image-id>@<snap>.raw") in one directory, for hosts
// without Ceph. The base name carries the image hash, so changed image data
// gets a new base instead of reusing the old one.
type Local struct {
	cfg     LocalConfig
	images  ImageSource
	log     *slog.Logger
	stats   Stats
	bases   flight[string]
	fetches slots
	stage   *staging
	locks   diskLocks // serializes the creates and deletes of one disk
}

// NewLocal makes the local backend and its directories.
func NewLocal(images ImageSource, cfg LocalConfig, log *slog.Logger) (*Local, error) {
	if cfg.Dir == "" {
		return nil, fmt.Errorf("local backend: a directory is required: %w", errs.ErrInvalid)
	}
	for _, d := range []string{"bases", "disks"} {
		if err := os.MkdirAll(filepath.Join(cfg.Dir, d), 0o750); err != nil {
			return nil, err
		}
	}
	if log == nil {
		log = slog.Default()
	}
	stage, err := newStaging(cfg.Dir)
	if err != nil {
		return nil, err
	}
	cfg.Bounds = cfg.Bounds.withDefaults()
	cfg.Limits = cfg.Bounds.limits(cfg.Limits)
	return &Local{cfg: cfg, images: images, fetches: newSlots(cfg.MaxFetches), stage: stage,
		log: log.With("backend", "local", "dir", cfg.Dir)}, nil
}

// Close removes the staging directory once nothing uses the backend (its
// requests have finished); a crash instead leaves it to the next Reap.
func (l *Local) Close() error { return l.stage.close() }

// Stats are the backend's byte counters.
func (l *Local) Stats() *Stats { return &l.stats }

func (l *Local) diskPath(instanceID, name string) string {
	return filepath.Join(l.cfg.Dir, "disks", diskImageName(instanceID, name)+".qcow2")
}

// Create makes a qcow2 overlay on the image's raw base.
func (l *Local) Create(ctx context.Context, req Request) (Disk, error) {
	start := time.Now()
	img, d, done, err := begin(ctx, l.Get, l.images, &req, l.cfg.Bounds)
	if done || err != nil {
		return d, err
	}
	base, err := l.bases.Do(ctx, img.ID, func(ctx context.Context) (string, error) { return l.ensureBase(ctx, img) })
	if err != nil {
		return Disk{}, err
	}
	st, err := os.Stat(base)
	if err != nil {
		return Disk{}, err
	}
	size, err := diskSize(req, uint64(st.Size()))
	if err != nil {
		return Disk{}, err
	}
	final := l.diskPath(req.InstanceID, req.Name)
	unlock, err := l.locks.lock(ctx, final)
	if err != nil {
		return Disk{}, err
	}
	defer unlock()
	if _, err := os.Stat(final); err == nil {
		return existing(ctx, l.Get, req)
	}
	if err := l.stageDisk(ctx, req, base, size, final); err != nil {
		return Disk{}, err
	}
	d, err = l.Get(ctx, req.InstanceID, req.Name)
	d.Elapsed = time.Since(start)
	l.log.InfoContext(ctx, "disk created", "disk", final, "image_id", img.ID, "elapsed", d.Elapsed)
	return d, err
}

// stageDisk makes the overlay and its owner sidecar in the staging
// directory and publishes both: the sidecar first, then the disk. A crash
// between the two renames leaves a sidecar without a disk, which nothing
// shows (a disk is its .qcow2 file) and the next create of that name
// replaces; never a disk without its owner. The caller holds the disk's
// lock and has seen the name free, so the renames replace nothing of
// anyone's but a stale sidecar.
func (l *Local) stageDisk(ctx context.Context, req Request, base string, size uint64, final string) error {
	f, err := os.CreateTemp(l.stage.dir, "disk-*.qcow2")
	if err != nil {
		return err
	}
	tmp := f.Name()
	f.Close()
	defer os.Remove(tmp)
	if err := qemuImg(ctx, nil, "create", "-q", "-f", "qcow2", "-b", base, "-F", "raw", tmp, fmt.Sprint(size)); err != nil {
		return err
	}
	meta, err := writeMeta(tmp, req)
	defer os.Remove(meta)
	if err != nil {
		return err
	}
	if err := os.Rename(meta, metaPath(final)); err != nil {
		return fmt.Errorf("record owner of disk %s: %w", final, err)
	}
	if err := os.Rename(tmp, final); err != nil {
		removeMeta(final)
		return fmt.Errorf("publish disk %s: %w", final, err)
	}
	return nil
}

// Get reads the disk's size and backing file from qemu-img, not from the
// file's length (a qcow2 file is as long as its data, not its disk).
func (l *Local) Get(ctx context.Context, instanceID, name string) (Disk, error) {
	if err := validate(instanceID, name); err != nil {
		return Disk{}, err
	}
	path := l.diskPath(instanceID, name)
	if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
		return Disk{}, fmt.Errorf("disk %s: %w", path, errs.ErrNotFound)
	}
	info, err := qemuInfo(ctx, path)
	if err != nil {
		return Disk{}, err
	}
	d := Disk{InstanceID: instanceID, Name: name, Pool: filepath.Dir(path), Image: filepath.Base(path), SizeBytes: info.VirtualSize, Parent: info.Backing}
	if id, ok := baseImageID(info.Backing); ok {
		d.ImageID, d.Method = id, MethodBaseClone
	}
	kv, err := readMetaFile(path)
	applyMeta(&d, kv)
	return d, err
}

// baseImageID reads the image id from a base path "<id>@<snap>.raw".
func baseImageID(path string) (string, bool) {
	id, _, ok := strings.Cut(filepath.Base(path), "@")
	return id, ok && strings.HasSuffix(path, ".raw")
}

// List returns the disks of one instance, or all.
func (l *Local) List(ctx context.Context, instanceID string) ([]Disk, error) {
	entries, err := os.ReadDir(filepath.Join(l.cfg.Dir, "disks"))
	if err != nil {
		return nil, err
	}
	disks := []Disk{}
	for _, e := range entries {
		inst, name, ok := splitDiskName(strings.TrimSuffix(e.Name(), ".qcow2"))
		if !ok || !strings.HasSuffix(e.Name(), ".qcow2") || (instanceID != "" && inst != instanceID) {
			continue
		}
		d, err := l.Get(ctx, inst, name)
		if errors.Is(err, errs.ErrNotFound) {
			continue
		}
		if err != nil {
			return nil, err
		}
		disks = append(disks, d)
	}
	return disks, nil
}

// Resize grows the disk; shrinking is refused.
func (l *Local) Resize(ctx context.Context, instanceID, name string, size uint64) (Disk, error) {
	if err := l.cfg.Bounds.checkSize("disk "+diskImageName(instanceID, name), size); err != nil {
		return Disk{}, err
	}
	d, err := l.Get(ctx, instanceID, name)
	if err != nil {
		return Disk{}, err
	}
	if size < d.SizeBytes {
		return Disk{}, fmt.Errorf("disk %s: shrinking %d to %d bytes is refused: %w", d.Image, d.SizeBytes, size, errs.ErrTooSmall)
	}
	if size > d.SizeBytes {
		if err := qemuImg(ctx, nil, "resize", "-q", "-f", "qcow2", l.diskPath(instanceID, name), fmt.Sprint(size)); err != nil {
			return Disk{}, err
		}
	}
	return l.Get(ctx, instanceID, name)
}

// Flatten copies the base's data into the overlay ("safe" rebase onto nothing).
func (l *Local) Flatten(ctx context.Context, instanceID, name string) (Disk, error) {
	d, err := l.Get(ctx, instanceID, name)
	if err != nil {
		return Disk{}, err
	}
	if d.Parent != "" {
		if err := qemuImg(ctx, nil, "rebase", "-q", "-f", "qcow2", "-b", "", l.diskPath(instanceID, name)); err != nil {
			return Disk{}, err
		}
	}
	return l.Get(ctx, instanceID, name)
}

// Delete removes one disk, then its owner sidecar (a crash between leaves
// only the sidecar, which nothing shows); a missing one is fine.
func (l *Local) Delete(ctx context.Context, instanceID, name string) error {
	if err := validate(instanceID, name); err != nil {
		return err
	}
	unlock, err := l.locks.lock(ctx, l.diskPath(instanceID, name))
	if err != nil {
		return err
	}
	defer unlock()
	if err := os.Remove(l.diskPath(instanceID, name)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	return removeMeta(l.diskPath(instanceID, name))
}

// DeleteInstance removes the instance's disks ("<instance>_*" in disks/,
// sidecars included).
func (l *Local) DeleteInstance(ctx context.Context, instanceID string) error {
	if err := validate(instanceID, DefaultDiskName); err != nil {
		return err
	}
	return removeGlob(filepath.Join(l.cfg.Dir, "disks", instanceID+"_*"))
}

// Reap removes the temporaries of processes that are gone: their whole
// staging directories (see localstage.go), nothing in bases/ or disks/.
func (l *Local) Reap(ctx context.Context) ([]string, error) {
	return l.stage.reap()
}

func removeGlob(pattern string) error {
	matches, err := filepath.Glob(pattern)
	if err != nil {
		return err
	}
	for _, m := range matches {
		if err := os.Remove(m); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return err
		}
	}
	return nil
}

// Attachment is the libvirt <disk> for the overlay file.
func (l *Local) Attachment(ctx context.Context, instanceID, name, target string) (*libvirtxml.DomainDisk, error) {
	if _, err := l.Get(ctx, instanceID, name); err != nil {
		return nil, err
	}
	return fileDiskXML(l.diskPath(instanceID, name), target), nil
}
