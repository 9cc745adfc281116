package provisioner

import (
	"context"
	"errors"
	"fmt"

	"github.com/cowdisk/cowdisk/internal/errs"
)

// The steps of Create every backend shares.

// begin is the start of Create shared by every backend: check the request,
// answer a repeat from the existing disk (done), look the image up and refuse
// a disk smaller than the image before anything is made.
func begin(ctx context.Context, get func(ctx context.Context, instanceID, name string) (Disk, error), src ImageSource, req *Request, bounds Bounds) (img Image, d Disk, done bool, err error) {
	if err := validateRequest(req); err != nil {
		return Image{}, Disk{}, false, err
	}
	if err := validateOwner(req.Owner); err != nil {
		return Image{}, Disk{}, false, err
	}
	// The repeat check (a cluster call) and the image record (an HTTP
	// call) are independent: they run at once, and a repeat drops the
	// record. Bounds come before the image service is asked anything.
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	sizeErr := bounds.checkSize("disk "+diskImageName(req.InstanceID, req.Name), req.SizeBytes)
	var record <-chan lookupResult
	if sizeErr == nil {
		record = startLookup(ctx, src, req.ImageID, bounds)
	}
	if d, err := existing(ctx, get, *req); !errors.Is(err, errs.ErrNotFound) {
		return Image{}, d, true, err
	}
	if sizeErr != nil {
		return Image{}, Disk{}, false, sizeErr
	}
	r := <-record
	if img, err = r.img, r.err; err != nil {
		return Image{}, Disk{}, false, err
	}
	if err := bounds.checkImage(img); err != nil {
		return Image{}, Disk{}, false, err
	}
	_, err = diskSize(*req, knownVirtualSize(img))
	return img, Disk{}, false, err
}

type lookupResult struct {
	img Image
	err error
}

// startLookup runs lookupBounded in its own goroutine; it ends with ctx.
func startLookup(ctx context.Context, src ImageSource, id string, bounds Bounds) <-chan lookupResult {
	ch := make(chan lookupResult, 1) // never blocks: the caller may not wait
	go func() {
		img, err := lookupBounded(ctx, src, id, bounds)
		ch <- lookupResult{img, err}
	}()
	return ch
}

// sameDisk is the idempotence rule: the same disk from the same image (and
// size, when one is asked for) is returned as it is; anything else conflicts.
func sameDisk(d Disk, req Request) (Disk, error) {
	switch {
	case d.ImageID == "":
		return Disk{}, fmt.Errorf("disk %s/%s exists and its image can no longer be told (flattened): %w", d.Pool, d.Image, errs.ErrConflict)
	case d.ImageID != req.ImageID:
		return Disk{}, fmt.Errorf("disk %s/%s exists from image %s, not %s: %w", d.Pool, d.Image, d.ImageID, req.ImageID, errs.ErrConflict)
	case req.SizeBytes != 0 && req.SizeBytes != d.SizeBytes:
		return Disk{}, fmt.Errorf("disk %s/%s exists with %d bytes, not %d: %w", d.Pool, d.Image, d.SizeBytes, req.SizeBytes, errs.ErrConflict)
	}
	d.Existed = true
	return d, nil
}

// existing answers a create whose disk another request made first, as a
// repeat would be answered.
func existing(ctx context.Context, get func(ctx context.Context, instanceID, name string) (Disk, error), req Request) (Disk, error) {
	d, err := get(ctx, req.InstanceID, req.Name)
	if err != nil {
		return Disk{}, err
	}
	return sameDisk(d, req)
}

// diskSize picks the disk size and refuses one smaller than the image, before
// anything is created.
func diskSize(req Request, virtual uint64) (uint64, error) {
	if req.SizeBytes == 0 {
		return virtual, nil
	}
	if req.SizeBytes < virtual {
		return 0, fmt.Errorf("disk smaller than image: %d < %d bytes: %w", req.SizeBytes, virtual, errs.ErrTooSmall)
	}
	return req.SizeBytes, nil
}
