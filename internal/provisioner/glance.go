package provisioner

import (
	"context"
	"fmt"
	"io"
	"slices"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack/image/v2/imagedata"
	"github.com/gophercloud/gophercloud/v2/openstack/image/v2/images"

	"github.com/cowdisk/cowdisk/internal/errs"
)

// GlanceSource reads images from any Glance v2 endpoint (cowdisk's image
// service or OpenStack's) with gophercloud.
type GlanceSource struct{ Client *gophercloud.ServiceClient }

// NewGlanceSource makes a source for the Glance v2 endpoint at url (the
// service root, e.g. "http://127.0.0.1:9292"), sending token when not "".
func NewGlanceSource(url, token string) GlanceSource {
	pc := &gophercloud.ProviderClient{}
	if token != "" {
		pc.SetToken(token)
	}
	url = gophercloud.NormalizeURL(url)
	return GlanceSource{Client: &gophercloud.ServiceClient{ProviderClient: pc, Endpoint: url, ResourceBase: url + "v2/", Type: "image"}}
}

// Image reads the image record; locations come first, then direct_url, as
// Nova tries them (both are shown only to service and admin callers).
func (g GlanceSource) Image(ctx context.Context, id string) (Image, error) {
	img, err := images.Get(ctx, g.Client, id).Extract()
	if gophercloud.ResponseCodeIs(err, 404) {
		return Image{}, fmt.Errorf("image %s: %w", id, errs.ErrNotFound)
	}
	if err != nil {
		return Image{}, err
	}
	str := func(k string) string { s, _ := img.Properties[k].(string); return s }
	out := Image{ID: img.ID, Status: string(img.Status), DiskFormat: img.DiskFormat, Size: img.SizeBytes,
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
	if u := str("direct_url"); u != "" && !slices.Contains(out.Locations, u) {
		out.Locations = append(out.Locations, u)
	}
	return out, nil
}

// Download streams the image data.
func (g GlanceSource) Download(ctx context.Context, id string) (io.ReadCloser, error) {
	return imagedata.Download(ctx, g.Client, id).Extract()
}
