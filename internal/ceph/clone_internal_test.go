package ceph

import (
	"context"
	"errors"
	"os"
	"testing"
	"time"

	"github.com/ceph/go-ceph/rados"
	"github.com/ceph/go-ceph/rbd"

	"github.com/cowdisk/cowdisk/internal/errs"
	"github.com/cowdisk/cowdisk/internal/testmode"
)

// TestCloneV1Fallback runs the format-1 path directly: this cluster takes
// format 2, so Clone itself never falls back here. (It cannot use
// testcluster, which imports this package; TestMain in ceph_test has set
// the environment up.)
func TestCloneV1Fallback(t *testing.T) {
	testmode.Needs(t, "a Ceph cluster")
	conf := os.Getenv("COWDISK_TEST_CEPH_CONF")
	if conf == "" {
		t.Fatal("COWDISK_TEST_CEPH_CONF is unset (TestMain should have set it)")
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cfg := ConfigFromEnv()
	cfg.ConfPath = conf
	c, err := Connect(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	const pool = "cephpkg-internal"
	must(t, c.CreatePool(ctx, pool))
	must(t, c.CreateImage(ctx, pool, "v1parent", mib, ImageOptions{}))
	defer c.Remove(context.Background(), pool, "v1parent", RemoveOptions{Retries: -1})
	must(t, c.CreateSnapshot(ctx, pool, "v1parent", "snap"))

	parent := SnapRef{Pool: pool, Image: "v1parent", Snap: "snap"}
	err = c.withPool(ctx, pool, func(io *rados.IOContext) error {
		return cloneV1(io, parent, io, pool, "v1child", ImageOptions{})
	})
	must(t, err)
	info, err := c.Stat(ctx, pool, "v1child")
	if err != nil || info.Parent == nil || *info.Parent != parent {
		t.Fatalf("v1 child: %+v, %v", info, err)
	}
	must(t, c.withImage(ctx, pool, "v1parent", "", true, func(img *rbd.Image) error {
		on, err := img.GetSnapshot("snap").IsProtected()
		if err == nil && !on {
			err = errors.New("snapshot not protected after a format-1 clone")
		}
		return err
	}))
	// A protected snapshot with a child: the parent is in use, untouched.
	if err := c.Remove(ctx, pool, "v1parent", RemoveOptions{Retries: -1}); !errors.Is(err, errs.ErrInUse) {
		t.Fatalf("Remove(parent) = %v, want ErrInUse", err)
	}
	must(t, c.Remove(ctx, pool, "v1child", RemoveOptions{Retries: -1}))
	// Without children, Remove unprotects and removes the snapshot itself.
	must(t, c.Remove(ctx, pool, "v1parent", RemoveOptions{Retries: -1}))
}

const mib = 1 << 20

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
