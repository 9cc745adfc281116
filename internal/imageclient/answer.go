package imageclient

import (
	"context"
	"fmt"
	"net/http"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack/image/v2/images"

	"github.com/cowdisk/cowdisk/internal/errs"
)

// Create, like Get, reads the answer itself: bounded, strict, and about
// the image asked for (the id sent if one was, the name and formats sent).
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
	what := "create image " + o.Name
	body, err := opts.ToImageCreateMap()
	if err != nil {
		return Image{}, fmt.Errorf("%s: %w: %v", what, errs.ErrInvalid, err)
	}
	resp, err := g.sc.Post(ctx, g.sc.ServiceURL("images"), body, nil, &gophercloud.RequestOpts{
		KeepResponseBody: true, OkCodes: []int{http.StatusCreated}})
	return g.answer(what, resp, err, created(o))
}

// Update sends a JSON patch and reads the answer as Create does.
func (g *glance) Update(ctx context.Context, id string, u Update) (Image, error) {
	what := "update image " + id
	body, err := patchOps(u).ToImageUpdateMap()
	if err != nil {
		return Image{}, fmt.Errorf("%s: %w: %v", what, errs.ErrInvalid, err)
	}
	resp, err := g.sc.Patch(ctx, g.sc.ServiceURL("images", id), body, nil, &gophercloud.RequestOpts{
		KeepResponseBody: true, OkCodes: []int{http.StatusOK},
		MoreHeaders: map[string]string{"Content-Type": "application/openstack-images-v2.1-json-patch"}})
	return g.answer(what, resp, err, updated(id, u))
}

// answer reads the answer to what (resp, or the request's err) as one
// image record, bounded and strict, that carries what want expects.
func (g *glance) answer(what string, resp *http.Response, err error, want func(Image) []expectation) (Image, error) {
	if err != nil {
		return Image{}, translate(err, what)
	}
	defer resp.Body.Close()
	img, err := readRecord(resp.Body, g.maxRecord, what)
	if err != nil {
		return Image{}, err
	}
	return img, answered(what, img, want)
}

func patchOps(u Update) images.UpdateOpts {
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
	return ops
}

// expectation is a value the answer must carry because the request sent
// it: the member's name, what was sent and what came back.
type expectation struct {
	member   string
	sent     any
	answered any
}

// created lists what a create answer must repeat: the id when one was
// chosen, the name, and the formats and visibility when they were sent.
func created(o CreateOptions) func(Image) []expectation {
	return func(img Image) []expectation {
		e := []expectation{{"name", o.Name, img.Name}}
		for _, c := range []struct{ member, sent, got string }{{"id", o.ID, img.ID},
			{"disk_format", o.DiskFormat, img.DiskFormat}, {"container_format", o.ContainerFormat, img.ContainerFormat},
			{"visibility", o.Visibility, img.Visibility}} {
			if c.sent != "" {
				e = append(e, expectation{c.member, c.sent, c.got})
			}
		}
		return e
	}
}

// updated lists what an update answer must carry: the id asked and every
// core field set.
func updated(id string, u Update) func(Image) []expectation {
	return func(img Image) []expectation {
		e := []expectation{{"id", id, img.ID}}
		if u.Name != nil {
			e = append(e, expectation{"name", *u.Name, img.Name})
		}
		if u.Visibility != nil {
			e = append(e, expectation{"visibility", *u.Visibility, img.Visibility})
		}
		if u.MinDisk != nil {
			e = append(e, expectation{"min_disk", *u.MinDisk, img.MinDisk})
		}
		if u.MinRAM != nil {
			e = append(e, expectation{"min_ram", *u.MinRAM, img.MinRAM})
		}
		if u.Protected != nil {
			e = append(e, expectation{"protected", *u.Protected, img.Protected})
		}
		return e
	}
}

// answered refuses an answer that is about another image or does not
// carry what was sent (errs.ErrRefused: the service's answer is wrong).
func answered(what string, img Image, want func(Image) []expectation) error {
	for _, e := range want(img) {
		if e.sent != e.answered {
			return fmt.Errorf("%s: answer refused: %s %s was sent, the service answered %s: %w",
				what, e.member, quote(fmt.Sprint(e.sent)), quote(fmt.Sprint(e.answered)), errs.ErrRefused)
		}
	}
	return nil
}
