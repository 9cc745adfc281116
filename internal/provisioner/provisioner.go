// Package provisioner makes instance disks from images.
//
// When an image is a raw RBD snapshot in this cluster and its location is
// trusted, the disk is a copy-on-write clone and no image byte moves. When it
// is not, the image is fetched once, verified, inspected, converted to raw and
// imported as a cluster-wide base, and every later disk clones that base.
//
// Two backends implement Backend: RBD (disks "<vms-pool>/<instance>_<name>")
// and Local (qcow2 overlays on a raw base in a directory, for hosts without
// Ceph). The node agent serves either over HTTP.
package provisioner

import (
	"context"
	"time"

	"libvirt.org/go/libvirtxml"
)

// Method says how a disk was made.
type Method string

const (
	// MethodClone: copy-on-write clone of the image's own RBD snapshot.
	MethodClone Method = "clone"
	// MethodBaseClone: clone of the cluster-wide base made by the fallback.
	MethodBaseClone Method = "base-clone"
	// MethodImport: a full private copy (the cached base was stale).
	MethodImport Method = "import"
)

// Request asks for one disk of an instance.
type Request struct {
	InstanceID string
	Name       string // default DefaultDiskName
	ImageID    string
	SizeBytes  uint64 // 0: the image's virtual size
	// Owner is the project the disk belongs to, recorded with the disk
	// (see MetaOwner); "" records none.
	Owner string
}

// DefaultDiskName is Nova's name for the root disk.
const DefaultDiskName = "disk"

// Disk describes an instance disk as the backend sees it now.
type Disk struct {
	InstanceID string
	Name       string
	Pool       string // RBD pool; the directory for the local backend
	Image      string // RBD image name; the file name for the local backend
	SizeBytes  uint64 // read from the backend itself
	ImageID    string // "" when the origin can no longer be told (flattened)
	Method     Method // "" when unknown (flattened)
	Parent     string // "pool/image@snap" or the backing file; "" if none
	Reasons    []string
	Elapsed    time.Duration
	Existed    bool // Create found this disk already made from the same image
	// Steps is where a new disk's Create spent its time (steps.go); nil
	// for a repeat and for backends that do not time their steps.
	Steps map[Step]time.Duration
	// Owner is the recorded owning project; "" for a disk made before
	// owners were recorded (or without one).
	Owner string
}

// Base is one cached, converted image that disks clone from.
type Base struct {
	ImageID   string
	Pool      string
	Image     string
	Snapshot  string
	SizeBytes uint64
	Children  []string  // "pool/image" of disks that depend on it
	Created   time.Time // zero when the store cannot tell
}

// Backend is what the node agent needs from a disk store.
type Backend interface {
	Create(ctx context.Context, r Request) (Disk, error)
	// Get fails with errs.ErrNotFound when the disk does not exist.
	Get(ctx context.Context, instanceID, name string) (Disk, error)
	// List returns the disks of one instance, or of all when instanceID is "".
	List(ctx context.Context, instanceID string) ([]Disk, error)
	// Resize only grows; a smaller size fails with errs.ErrTooSmall.
	Resize(ctx context.Context, instanceID, name string, size uint64) (Disk, error)
	Flatten(ctx context.Context, instanceID, name string) (Disk, error)
	// Delete and DeleteInstance succeed when there is nothing to delete.
	Delete(ctx context.Context, instanceID, name string) error
	DeleteInstance(ctx context.Context, instanceID string) error
	// Attachment is the libvirt <disk> element for the disk; target is the
	// guest device ("vda" when empty).
	Attachment(ctx context.Context, instanceID, name, target string) (*libvirtxml.DomainDisk, error)
	// Bases lists the base cache; Prune removes bases no disk depends on and
	// returns their names.
	Bases(ctx context.Context) ([]Base, error)
	Prune(ctx context.Context) ([]string, error)
	// Reap removes temporary names this node left behind (a crash mid-create).
	Reap(ctx context.Context) ([]string, error)
}
