package provisioner

import (
	"context"
	"io"

	"github.com/cowdisk/cowdisk/internal/ceph"
)

// Cluster is the part of *ceph.Cluster the RBD backend uses. It is declared
// here, by its consumer, so unit tests run on a fake and the integration
// tests on the real dev cluster.
type Cluster interface {
	FSID() string
	MonitorAddrs(ctx context.Context) ([]string, error)
	ListImages(ctx context.Context, pool string) ([]string, error)
	// Exists opens the image (and snapshot) read-only.
	Exists(ctx context.Context, pool, name, snap string) (bool, error)
	Stat(ctx context.Context, pool, name string) (ceph.ImageInfo, error)
	Resize(ctx context.Context, pool, name string, size uint64, allowShrink bool) error
	Clone(ctx context.Context, parent ceph.SnapRef, pool, name string, o ceph.ImageOptions) error
	CreateSnapshot(ctx context.Context, pool, image, snap string) error
	ListSnapshots(ctx context.Context, pool, image string) ([]string, error)
	Children(ctx context.Context, pool, image, snap string) ([]ceph.Child, error)
	CloneDepth(ctx context.Context, pool, name string) (int, error)
	Flatten(ctx context.Context, pool, name string) error
	// StatMetadata reads a disk's owner and origin (owner.go) and its
	// completion marker.
	StatMetadata(ctx context.Context, pool, name string) (ceph.ImageInfo, map[string]string, error)
	Remove(ctx context.Context, pool, name string, o ceph.RemoveOptions) error
	CleanupInstance(ctx context.Context, pool, instanceID string) error
	Import(ctx context.Context, r io.Reader, size int64, pool, name string, o ceph.ImportOptions) (ceph.ImportResult, error)
	OpenReader(ctx context.Context, pool, name, snap string) (*ceph.ImageReader, error)
	OpenWriter(ctx context.Context, pool, name string, size uint64, o ceph.ImageOptions) (*ceph.ImageWriter, error)
	stager
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
	Publish(ctx context.Context, pool, staged, final string, exclusive bool) error
	// DiscardRecorded removes what a failed step made (in the background,
	// owned and drained by the cluster, when the cluster stalled) and
	// settles its record once it is gone.
	DiscardRecorded(ctx context.Context, pool, owner, name string, cause error)
	Reap(ctx context.Context, pool, owner string, o ceph.ReapOptions) ([]string, error)
}

var _ Cluster = (*ceph.Cluster)(nil)
