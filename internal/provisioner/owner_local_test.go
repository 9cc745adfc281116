package provisioner

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"testing"

	"github.com/cowdisk/cowdisk/internal/errs"
	"github.com/cowdisk/cowdisk/internal/provisioner/provtest"
)

// The local backend records the owner in a sidecar beside the overlay; it
// survives resize and flatten, and goes with the disk.
func TestLocalOwner(t *testing.T) {
	images := newFakeImages()
	img, _ := provtest.QemuImage(t, "raw", 2*mib)
	images.add(md5Image("0a0a0a0a-0000-4000-8000-00000000000a", "raw", img), img)
	dir := t.TempDir()
	l, err := NewLocal(images, LocalConfig{Dir: dir}, discard())
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if _, err := l.Create(ctx, Request{InstanceID: "bad", ImageID: "0a0a0a0a-0000-4000-8000-00000000000a", Owner: "p\n1"}); !errors.Is(err, errs.ErrInvalid) {
		t.Fatalf("owner with a newline: %v, want ErrInvalid", err)
	}
	d, err := l.Create(ctx, Request{InstanceID: "own1", ImageID: "0a0a0a0a-0000-4000-8000-00000000000a", Owner: "p1"})
	if err != nil || d.Owner != "p1" {
		t.Fatalf("create: %+v %v", d, err)
	}
	if d, err = l.Resize(ctx, "own1", "disk", 4*mib); err != nil || d.Owner != "p1" {
		t.Fatalf("resize: %+v %v", d, err)
	}
	if d, err = l.Flatten(ctx, "own1", "disk"); err != nil || d.Owner != "p1" || d.ImageID != "0a0a0a0a-0000-4000-8000-00000000000a" || d.Parent != "" {
		t.Fatalf("flatten: %+v %v", d, err)
	}
	if err := l.Delete(ctx, "own1", "disk"); err != nil {
		t.Fatal(err)
	}
	left, _ := filepath.Glob(filepath.Join(dir, "disks", "*"))
	if len(left) != 0 {
		t.Fatalf("left after delete: %v", left)
	}
	// A disk from before owners were recorded has none.
	if _, err := l.Create(ctx, Request{InstanceID: "old1", ImageID: "0a0a0a0a-0000-4000-8000-00000000000a", Owner: "p1"}); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(metaPath(l.diskPath("old1", "disk"))); err != nil && !errors.Is(err, fs.ErrNotExist) {
		t.Fatal(err)
	}
	if d, err := l.Get(ctx, "old1", "disk"); err != nil || d.Owner != "" {
		t.Fatalf("unowned: %+v %v", d, err)
	}
}
