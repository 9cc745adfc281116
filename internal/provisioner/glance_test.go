package provisioner_test

import (
	"context"
	"fmt"
	"io"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack/image/v2/imagedata"
	"github.com/gophercloud/gophercloud/v2/openstack/image/v2/images"

	"github.com/cowdisk/cowdisk/internal/errs"
	"github.com/cowdisk/cowdisk/internal/provisioner"
)

// glanceSource reads images with gophercloud. TODO(lead): replace with the
// adapter over internal/imageclient once that package lands.
type glanceSource struct{ sc *gophercloud.ServiceClient }

func (g glanceSource) Image(ctx context.Context, id string) (provisioner.Image, error) {
	img, err := images.Get(ctx, g.sc, id).Extract()
	if gophercloud.ResponseCodeIs(err, 404) {
		return provisioner.Image{}, fmt.Errorf("image %s: %w", id, errs.ErrNotFound)
	}
	if err != nil {
		return provisioner.Image{}, err
	}
	str := func(k string) string { s, _ := img.Properties[k].(string); return s }
	out := provisioner.Image{ID: img.ID, Status: string(img.Status), DiskFormat: img.DiskFormat, Size: img.SizeBytes,
		VirtualSize: img.VirtualSize, Checksum: img.Checksum, HashAlgo: str("os_hash_algo"), HashValue: str("os_hash_value")}
	if locs, ok := img.Properties["locations"].([]any); ok {
		for _, l := range locs {
			if m, ok := l.(map[string]any); ok {
				if u, ok := m["url"].(string); ok {
					out.Locations = append(out.Locations, u)
				}
			}
		}
	}
	if u := str("direct_url"); u != "" {
		out.Locations = append(out.Locations, u)
	}
	return out, nil
}

func (g glanceSource) Download(ctx context.Context, id string) (io.ReadCloser, error) {
	return imagedata.Download(ctx, g.sc, id).Extract()
}
