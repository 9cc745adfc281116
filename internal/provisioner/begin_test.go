package provisioner

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"

	"github.com/cowdisk/cowdisk/internal/errs"
)

// countingImages counts record reads and can fail them.
type countingImages struct {
	*fakeImages
	reads atomic.Int64
	fail  atomic.Bool
}

func (s *countingImages) Image(ctx context.Context, id string) (Image, error) {
	s.reads.Add(1)
	if s.fail.Load() {
		return Image{}, &ImageServiceError{Err: errs.ErrUnavailable}
	}
	return s.fakeImages.Image(ctx, id)
}

// The repeat check and the record read run at once, but what a create
// answers is as before: a repeat is answered from the disk whatever the
// image service says, and a size over the bound is refused without asking
// the image service.
func TestBeginReadsRecordAlongsideRepeatCheck(t *testing.T) {
	const id = "11111111-1111-4111-8111-111111111111"
	f := newRBDFixture(t, func(c *RBDConfig) { c.Bounds.MaxDiskSize = 64 * mib })
	src := &countingImages{fakeImages: f.images}
	f.b.images = src
	f.cloneable(id, 8*mib)
	ctx := context.Background()
	if _, err := f.b.Create(ctx, Request{InstanceID: "i1", ImageID: id}); err != nil {
		t.Fatal(err)
	}
	src.fail.Store(true)
	if d, err := f.b.Create(ctx, Request{InstanceID: "i1", ImageID: id}); err != nil || !d.Existed {
		t.Fatalf("repeat with the image service down: %+v %v", d, err)
	}
	if _, err := f.b.Create(ctx, Request{InstanceID: "i2", ImageID: id}); !errors.As(err, new(*ImageServiceError)) {
		t.Fatalf("new disk with the image service down: %v", err)
	}
	before := src.reads.Load()
	if _, err := f.b.Create(ctx, Request{InstanceID: "i3", ImageID: id, SizeBytes: 128 * mib}); !errors.Is(err, errs.ErrInvalid) {
		t.Fatalf("disk over the bound: %v", err)
	}
	if n := src.reads.Load() - before; n != 0 {
		t.Fatalf("a disk over the bound read the image record %d times", n)
	}
}
