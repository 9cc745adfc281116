package provisioner

import (
	"context"
	"io"
	"slices"

	"github.com/cowdisk/cowdisk/internal/imageclient"
)

// ClientSource reads images through internal/imageclient, so the provisioner
// works against cowdisk's image service and OpenStack's Glance alike.
// Download is the client's own.
type ClientSource struct{ imageclient.Client }

// Image reads the image record. Locations come first, then direct_url, the
// order Nova tries them in; both are shown only to service and admin callers.
func (s ClientSource) Image(ctx context.Context, id string) (Image, error) {
	img, err := s.Client.Get(ctx, id)
	if err != nil {
		return Image{}, err
	}
	return fromClient(img), nil
}

func fromClient(img imageclient.Image) Image {
	out := Image{ID: img.ID, Status: img.Status, DiskFormat: img.DiskFormat, Size: img.Size, VirtualSize: img.VirtualSize,
		Checksum: img.Checksum, HashAlgo: img.OSHashAlgo, HashValue: img.OSHashValue, UpdatedAt: img.UpdatedAt,
		ChunksBinding: img.Properties[imageclient.ChunksProperty]}
	for _, l := range img.Locations {
		out.Locations = append(out.Locations, l.URL)
	}
	if img.DirectURL != "" && !slices.Contains(out.Locations, img.DirectURL) {
		out.Locations = append(out.Locations, img.DirectURL)
	}
	return out
}

// Chunks and ReadRange serve the verified sparse transfer when the client
// can (cowdisk's can); otherwise there is no list, and the provisioner
// uses the whole-stream download.
func (s ClientSource) Chunks(ctx context.Context, id string, max int64) (imageclient.ChunkList, error) {
	return imageclient.AsChunkReader(s.Client).Chunks(ctx, id, max)
}

func (s ClientSource) ReadRange(ctx context.Context, id string, off, n int64) (io.ReadCloser, error) {
	return imageclient.AsChunkReader(s.Client).ReadRange(ctx, id, off, n)
}
