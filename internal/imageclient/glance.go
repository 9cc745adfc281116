package imageclient

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strconv"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack/image/v2/images"

	"github.com/cowdisk/cowdisk/internal/errs"
)

type glance struct {
	sc        *gophercloud.ServiceClient
	maxRecord int64
	maxList   int64
}

// Get reads the record itself (not through gophercloud's lenient decoder):
// bounded, strict, core fields by their exact names only (see readRecord).
func (g *glance) Get(ctx context.Context, id string) (Image, error) {
	resp, err := g.sc.Get(ctx, g.sc.ServiceURL("images", id), nil, &gophercloud.RequestOpts{
		KeepResponseBody: true, OkCodes: []int{http.StatusOK}})
	return g.answer("get image "+id, resp, err, func(img Image) []expectation { return []expectation{{"id", id, img.ID}} })
}

// Upload is imagedata.Upload plus the declared size, which lets the
// service refuse a wrong length (and a too large image) up front.
func (g *glance) Upload(ctx context.Context, id string, r io.Reader, size int64) error {
	hdr := map[string]string{"Content-Type": "application/octet-stream"}
	if size >= 0 {
		hdr["X-Openstack-Image-Size"] = strconv.FormatInt(size, 10)
	}
	resp, err := g.sc.Put(ctx, g.sc.ServiceURL("images", id, "file"), nil, nil, &gophercloud.RequestOpts{
		RawBody: r, MoreHeaders: hdr, OkCodes: []int{http.StatusNoContent}})
	if resp != nil && resp.Body != nil {
		resp.Body.Close()
	}
	return translate(err, "upload image "+id)
}

func (g *glance) Download(ctx context.Context, id string) (io.ReadCloser, error) {
	resp, err := g.sc.Get(ctx, g.sc.ServiceURL("images", id, "file"), nil, &gophercloud.RequestOpts{
		KeepResponseBody: true, OkCodes: []int{http.StatusOK, http.StatusNoContent}})
	if err != nil {
		return nil, translate(err, "download image "+id)
	}
	if resp.StatusCode == http.StatusNoContent {
		resp.Body.Close()
		return nil, fmt.Errorf("download image %s: it has no data yet: %w", id, errs.ErrNotFound)
	}
	return resp.Body, nil
}

func (g *glance) Delete(ctx context.Context, id string) error {
	return translate(images.Delete(ctx, g.sc, id).ExtractErr(), "delete image "+id)
}

// notProperties are the extra fields Glance returns that are not custom
// properties.
var notProperties = map[string]bool{"os_hash_algo": true, "os_hash_value": true, "direct_url": true,
	"locations": true, "stores": true, "os_hidden": true, "properties": true}
