package provisioner

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/cowdisk/cowdisk/internal/errs"
)

// Image is what the provisioner needs to know about an image-service image.
type Image struct {
	ID          string
	Status      string // "active" when it has data
	DiskFormat  string
	Size        int64  // bytes of the stored file; 0 unknown
	VirtualSize int64  // 0 unknown
	Checksum    string // md5 hex (legacy)
	HashAlgo    string // os_hash_algo, e.g. "sha512"
	HashValue   string // os_hash_value
	// ChunksBinding is the cowdisk_chunks_sha256 property: the SHA-256
	// binding the image's chunk list to its size and os_hash_value ("" when
	// the image has no list; see sparse_list.go).
	ChunksBinding string
	// Locations in the order to try: the image's locations, then direct_url.
	Locations []string
	// UpdatedAt moves with every change of the image (status, data,
	// locations); the agent keys its record cache on it.
	UpdatedAt time.Time
}

// ImageSource is the image service as the provisioner uses it (satisfied by
// an adapter over internal/imageclient, so it works with real Glance too).
type ImageSource interface {
	// Image fails with errs.ErrNotFound for an unknown image.
	Image(ctx context.Context, id string) (Image, error)
	Download(ctx context.Context, id string) (io.ReadCloser, error)
}

// ImageServiceError marks a failure of the image service itself, so the
// agent can answer 502 instead of blaming Ceph or the caller.
type ImageServiceError struct{ Err error }

func (e *ImageServiceError) Error() string { return "image service: " + e.Err.Error() }
func (e *ImageServiceError) Unwrap() error { return e.Err }

func imageServiceErr(err error) error {
	if err == nil || errors.Is(err, errs.ErrNotFound) || errors.Is(err, context.Canceled) {
		return err
	}
	return &ImageServiceError{Err: err}
}

// lookupImage fetches the image and refuses one that has no data yet.
func lookupImage(ctx context.Context, src ImageSource, id string) (Image, error) {
	img, err := src.Image(ctx, id)
	if err != nil {
		if !strings.Contains(err.Error(), id) { // the image client names it already
			err = fmt.Errorf("image %s: %w", id, err)
		}
		return Image{}, imageServiceErr(err)
	}
	if err := checkRecord(id, img); err != nil {
		return Image{}, err
	}
	if img.Status != "" && img.Status != "active" {
		return Image{}, fmt.Errorf("image %s is %s, not active: %w", id, img.Status, errs.ErrConflict)
	}
	return img, nil
}

// knownVirtualSize is the image's virtual size when it is known without
// downloading anything (0 otherwise).
func knownVirtualSize(img Image) uint64 {
	switch {
	case img.VirtualSize > 0:
		return uint64(img.VirtualSize)
	case isRawFormat(img.DiskFormat) && img.Size > 0:
		return uint64(img.Size)
	}
	return 0
}

// isRawFormat: an iso stored as-is is a raw byte image too, so it can be
// cloned and needs no conversion.
func isRawFormat(f string) bool { return f == "raw" || f == "iso" }
