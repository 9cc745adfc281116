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
	CreateImage(ctx context.Context, pool, name string, size uint64, o ceph.ImageOptions) error
	Resize(ctx context.Context, pool, name string, size uint64, allowShrink bool) error
	Rename(ctx context.Context, pool, from, to string) error
	Clone(ctx context.Context, parent ceph.SnapRef, pool, name string, o ceph.ImageOptions) error
	CreateSnapshot(ctx context.Context, pool, image, snap string) error
	ListSnapshots(ctx context.Context, pool, image string) ([]string, error)
	Children(ctx context.Context, pool, image, snap string) ([]ceph.Child, error)
	CloneDepth(ctx context.Context, pool, name string) (int, error)
	Flatten(ctx context.Context, pool, name string) error
	// SetMetadata and StatMetadata keep a disk's owner and origin (owner.go).
	SetMetadata(ctx context.Context, pool, name string, kv map[string]string) error
	StatMetadata(ctx context.Context, pool, name string) (ceph.ImageInfo, map[string]string, error)
	Remove(ctx context.Context, pool, name string, o ceph.RemoveOptions) error
	// Discard removes what a failed step made (in the background, owned
	// and drained by the cluster, when the cluster stalled).
	Discard(ctx context.Context, pool, name string, cause error)
	CleanupInstance(ctx context.Context, pool, instanceID string) error
	TrashPurgeMatching(ctx context.Context, pool string, match func(name string) bool) error
	Import(ctx context.Context, r io.Reader, size int64, pool, name string, o ceph.ImportOptions) (ceph.ImportResult, error)
	OpenReader(ctx context.Context, pool, name, snap string) (*ceph.ImageReader, error)
	OpenWriter(ctx context.Context, pool, name string, size uint64, o ceph.ImageOptions) (*ceph.ImageWriter, error)
}

var _ Cluster = (*ceph.Cluster)(nil)
