package provisioner

import (
	"context"
	"io"

	"github.com/cowdisk/cowdisk/internal/ceph"
)

// Cluster is the part of *ceph.Cluster the RBD backend uses. It is declared
// here, by its consumer, so unit tests run on a fake and the integration
// tests on the real dev cluster (wrapped by Ceph). It is made of small
// interfaces, one per concern, so a fake or a reader of the code can take
// them one at a time.
type Cluster interface {
	ClusterInfo
	Images
	Clones
	Metadata
	Data
	stager
}

// ClusterInfo names the cluster, for libvirt's <source> and for the owner
// records.
type ClusterInfo interface {
	FSID() string
	MonitorAddrs(ctx context.Context) ([]string, error)
}

// Images creates, finds, resizes and removes images.
type Images interface {
	ListImages(ctx context.Context, pool string) ([]string, error)
	// Exists opens the image (and snapshot) read-only.
	Exists(ctx context.Context, pool, name, snap string) (bool, error)
	Stat(ctx context.Context, pool, name string) (ceph.ImageInfo, error)
	Resize(ctx context.Context, pool, name string, size uint64, allowShrink bool) error
	Remove(ctx context.Context, pool, name string, o ceph.RemoveOptions) error
	CleanupInstance(ctx context.Context, pool, instanceID string) error
}

// stager is the staging protocol (internal/ceph journal.go, publish.go,
// reap.go): every name this node makes is recorded in its journal before
// it is made, published when complete, and reaped by record after a crash.
type stager interface {
	Stage(ctx context.Context, pool, owner, final string) (string, error)
	Intent(ctx context.Context, pool, owner, final string) error
	Settle(ctx context.Context, pool, owner string, names ...string) error
	Recorded(ctx context.Context, pool, owner, name string) (bool, error)
	// Complete grows a disk (grow 0: not) and writes its metadata with
	// its completion marker in one atomic write.
	Complete(ctx context.Context, pool, name string, grow uint64, kv map[string]string) error
	Publish(ctx context.Context, pool, staged, final, claimant string) error
	// DiscardRecorded removes what a failed step made (in the background,
	// owned and drained by the cluster, when the cluster stalled) and
	// settles its record once it is gone.
	DiscardRecorded(ctx context.Context, pool, owner, name string, cause error)
	Reap(ctx context.Context, pool, owner string, o ceph.ReapOptions) ([]string, error)
}

// Clones is the copy-on-write part: snapshots, clones and their parents.
type Clones interface {
	Clone(ctx context.Context, parent ceph.SnapRef, pool, name string, o ceph.ImageOptions) error
	CreateSnapshot(ctx context.Context, pool, image, snap string) error
	ListSnapshots(ctx context.Context, pool, image string) ([]string, error)
	Children(ctx context.Context, pool, image, snap string) ([]ceph.Child, error)
	CloneDepth(ctx context.Context, pool, name string) (int, error)
	Flatten(ctx context.Context, pool, name string) error
}

// Metadata reads a disk's owner and origin (owner.go) and its completion
// marker; they are written by stager.Complete.
type Metadata interface {
	StatMetadata(ctx context.Context, pool, name string) (ceph.ImageInfo, map[string]string, error)
}

// Data moves image bytes: imports, conversions and the inspection of a
// clone's source.
type Data interface {
	Import(ctx context.Context, r io.Reader, size int64, pool, name string, o ceph.ImportOptions) (ceph.ImportResult, error)
	OpenReader(ctx context.Context, pool, name, snap string) (ImageReader, error)
	OpenWriter(ctx context.Context, pool, name string, size uint64, o ceph.ImageOptions) (ImageWriter, error)
}

// ImageReader reads one image or snapshot (a *ceph.ImageReader).
type ImageReader interface {
	io.ReaderAt
	Size() int64
	// Info stats the open image, so a check that reads it needs no second
	// open to learn its size and parent.
	Info() (ceph.ImageInfo, error)
	Close() error
}

// ImageWriter writes a new image that appears under its name only on
// Commit (a *ceph.ImageWriter). Discard removes it instead, in the
// background if the cluster stalled.
type ImageWriter interface {
	io.WriterAt
	Commit(ctx context.Context) error
	Discard(cause error)
}

// Ceph adapts a *ceph.Cluster to Cluster. Only the reader and writer need
// it: Go method sets do not let a concrete return type stand for an
// interface one, and the fake must be able to make its own.
func Ceph(c *ceph.Cluster) Cluster { return cephCluster{c} }

type cephCluster struct{ *ceph.Cluster }

func (c cephCluster) OpenReader(ctx context.Context, pool, name, snap string) (ImageReader, error) {
	r, err := c.Cluster.OpenReader(ctx, pool, name, snap)
	if err != nil {
		return nil, err // not a typed nil inside the interface
	}
	return r, nil
}

func (c cephCluster) OpenWriter(ctx context.Context, pool, name string, size uint64, o ceph.ImageOptions) (ImageWriter, error) {
	w, err := c.Cluster.OpenWriter(ctx, pool, name, size, o)
	if err != nil {
		return nil, err
	}
	return w, nil
}
