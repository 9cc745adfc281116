package imageclient

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strconv"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack/image/v2/images"
	"github.com/gophercloud/gophercloud/v2/pagination"

	"github.com/cowdisk/cowdisk/internal/errs"
)

type glance struct {
	sc        *gophercloud.ServiceClient
	maxRecord int64
}

// Get reads the record itself (not through gophercloud's lenient decoder):
// bounded, strict, core fields by their exact names only (see readRecord).
func (g *glance) Get(ctx context.Context, id string) (Image, error) {
	resp, err := g.sc.Get(ctx, g.sc.ServiceURL("images", id), nil, &gophercloud.RequestOpts{
		KeepResponseBody: true, OkCodes: []int{http.StatusOK}})
	if err != nil {
		return Image{}, translate(err, "get image "+id)
	}
	defer resp.Body.Close()
	return readRecord(resp.Body, g.maxRecord, id)
}

func (g *glance) List(ctx context.Context, o ListOptions) ([]Image, error) {
	opts := images.ListOpts{Name: o.Name, Status: images.ImageStatus(o.Status),
		Visibility: images.ImageVisibility(o.Visibility), Owner: o.Owner, DiskFormat: o.DiskFormat,
		Tags: o.Tags, SortKey: o.SortKey, SortDir: o.SortDir, Limit: o.PageSize}
	var out []Image
	err := images.List(g.sc, opts).EachPage(ctx, func(_ context.Context, p pagination.Page) (bool, error) {
		imgs, err := images.ExtractImages(p)
		for i := range imgs {
			if o.Max > 0 && len(out) >= o.Max {
				return false, err
			}
			out = append(out, fromGophercloud(&imgs[i]))
		}
		return o.Max == 0 || len(out) < o.Max, err
	})
	if err != nil {
		return nil, translate(err, "list images")
	}
	return out, nil
}

func (g *glance) Create(ctx context.Context, o CreateOptions) (Image, error) {
	opts := images.CreateOpts{ID: o.ID, Name: o.Name, DiskFormat: o.DiskFormat,
		ContainerFormat: o.ContainerFormat, Tags: o.Tags, MinDisk: o.MinDisk, MinRAM: o.MinRAM,
		Properties: o.Properties}
	if o.Visibility != "" {
		v := images.ImageVisibility(o.Visibility)
		opts.Visibility = &v
	}
	if o.Protected {
		opts.Protected = &o.Protected
	}
	img, err := images.Create(ctx, g.sc, opts).Extract()
	if err != nil {
		return Image{}, translate(err, "create image "+o.Name)
	}
	return fromGophercloud(img), nil
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

func (g *glance) Update(ctx context.Context, id string, u Update) (Image, error) {
	var ops images.UpdateOpts
	if u.Name != nil {
		ops = append(ops, images.ReplaceImageName{NewName: *u.Name})
	}
	if u.Visibility != nil {
		ops = append(ops, images.UpdateVisibility{Visibility: images.ImageVisibility(*u.Visibility)})
	}
	if u.Tags != nil {
		ops = append(ops, images.ReplaceImageTags{NewTags: u.Tags})
	}
	if u.MinDisk != nil {
		ops = append(ops, images.ReplaceImageMinDisk{NewMinDisk: *u.MinDisk})
	}
	if u.MinRAM != nil {
		ops = append(ops, images.ReplaceImageMinRam{NewMinRam: *u.MinRAM})
	}
	if u.Protected != nil {
		ops = append(ops, images.ReplaceImageProtected{NewProtected: *u.Protected})
	}
	for k, v := range u.Set {
		// "add" replaces an existing property too (JSON patch semantics).
		ops = append(ops, images.UpdateImageProperty{Op: images.AddOp, Name: k, Value: v})
	}
	for _, k := range u.Remove {
		ops = append(ops, images.UpdateImageProperty{Op: images.RemoveOp, Name: k})
	}
	img, err := images.Update(ctx, g.sc, id, ops).Extract()
	if err != nil {
		return Image{}, translate(err, "update image "+id)
	}
	return fromGophercloud(img), nil
}

// notProperties are the extra fields Glance returns that are not custom
// properties.
var notProperties = map[string]bool{"os_hash_algo": true, "os_hash_value": true, "direct_url": true,
	"locations": true, "stores": true, "os_hidden": true, "properties": true}

func fromGophercloud(g *images.Image) Image {
	img := Image{ID: g.ID, Name: g.Name, Status: string(g.Status), DiskFormat: g.DiskFormat,
		ContainerFormat: g.ContainerFormat, Size: g.SizeBytes, VirtualSize: g.VirtualSize,
		Checksum: g.Checksum, Owner: g.Owner, Visibility: string(g.Visibility), Protected: g.Protected,
		MinDisk: g.MinDiskGigabytes, MinRAM: g.MinRAMMegabytes, Tags: g.Tags,
		CreatedAt: g.CreatedAt, UpdatedAt: g.UpdatedAt, Properties: map[string]string{}}
	img.OSHashAlgo, _ = g.Properties["os_hash_algo"].(string)
	img.OSHashValue, _ = g.Properties["os_hash_value"].(string)
	img.DirectURL, _ = g.Properties["direct_url"].(string)
	if locs, ok := g.Properties["locations"].([]any); ok {
		for _, l := range locs {
			m, _ := l.(map[string]any)
			u, _ := m["url"].(string)
			md, _ := m["metadata"].(map[string]any)
			if u != "" {
				img.Locations = append(img.Locations, Location{URL: u, Metadata: md})
			}
		}
	}
	for k, v := range g.Properties {
		if s, ok := v.(string); ok && !notProperties[k] {
			img.Properties[k] = s
		}
	}
	return img
}
