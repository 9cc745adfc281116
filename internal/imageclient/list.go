package imageclient

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack/image/v2/images"

	"github.com/cowdisk/cowdisk/internal/errs"
	"github.com/cowdisk/cowdisk/internal/strictjson"
)

// DefaultMaxList bounds the answers of one List, all pages together, when
// Options leaves it zero: a service that pages forever, or pads its pages,
// costs at most this much memory, not all of it.
const DefaultMaxList = 64 << 20

// List reads the pages itself, like Get, rather than through gophercloud's
// lenient decoder: every page is bounded and decoded strictly, every
// record is one DecodeRecord accepts with a UUID id, no id comes twice,
// and the next link may only lead to the next page of this same listing
// on this same endpoint (never another host, never a page already read).
func (g *glance) List(ctx context.Context, o ListOptions) ([]Image, error) {
	q, err := images.ListOpts{Name: o.Name, Status: images.ImageStatus(o.Status),
		Visibility: images.ImageVisibility(o.Visibility), Owner: o.Owner, DiskFormat: o.DiskFormat,
		Tags: o.Tags, SortKey: o.SortKey, SortDir: o.SortDir, Limit: o.PageSize}.ToImageListQuery()
	if err != nil {
		return nil, fmt.Errorf("list images: %w: %v", errs.ErrInvalid, err)
	}
	l := lister{g: g, budget: positive(g.maxList, DefaultMaxList), ids: map[string]bool{}, visited: map[string]bool{}}
	for u := g.sc.ServiceURL("images") + q; u != ""; {
		if u, err = l.page(ctx, u, o.Max); err != nil {
			return nil, err
		}
	}
	return l.out, nil
}

// lister is the state of one List across its pages.
type lister struct {
	g       *glance
	budget  int64 // answer bytes still allowed
	out     []Image
	ids     map[string]bool
	visited map[string]bool
}

// page reads one page at u, keeps at most max images in all (0: no limit)
// and returns the next page's URL ("" when done).
func (l *lister) page(ctx context.Context, u string, max int) (string, error) {
	l.visited[u] = true
	resp, err := l.g.sc.Get(ctx, u, nil, &gophercloud.RequestOpts{KeepResponseBody: true, OkCodes: []int{http.StatusOK}})
	if err != nil {
		return "", translate(err, "list images")
	}
	defer resp.Body.Close()
	data, err := readBounded(resp.Body, l.budget, "list images", "the bound on all pages of one list together")
	if err != nil {
		return "", err
	}
	l.budget -= int64(len(data))
	page, next, err := DecodeList(data, l.g.maxRecord)
	if err != nil {
		return "", fmt.Errorf("list images: answer refused: %v: %w", err, errs.ErrRefused)
	}
	if full, err := l.keep(page, max); full || err != nil || next == "" {
		return "", err
	}
	if len(page) == 0 {
		return "", fmt.Errorf("list images: answer refused: an empty page links to another: %w", errs.ErrRefused)
	}
	nu, err := l.g.nextURL(next)
	if err == nil && l.visited[nu] {
		err = fmt.Errorf("next link %s leads back to a page already read", quote(next))
	}
	if err != nil {
		return "", fmt.Errorf("list images: answer refused: %v: %w", err, errs.ErrRefused)
	}
	return nu, nil
}

// keep adds page's images to the list, up to max in all (0: no limit),
// and reports whether the list is full.
func (l *lister) keep(page []Image, max int) (bool, error) {
	for _, img := range page {
		if l.ids[img.ID] {
			return false, fmt.Errorf("list images: answer refused: image %s listed twice: %w", img.ID, errs.ErrRefused)
		}
		if max > 0 && len(l.out) >= max {
			return true, nil
		}
		l.ids[img.ID] = true
		l.out = append(l.out, img)
	}
	return max > 0 && len(l.out) >= max, nil
}

// DecodeList parses one page of an image list strictly: an object with an
// "images" array of records (each at most maxRecord bytes, 0:
// DefaultMaxRecord, decoded by DecodeRecord, each wellFormed) and
// an optional "next" link. Other members ("first", "schema") are ignored.
func DecodeList(data []byte, maxRecord int64) ([]Image, string, error) {
	var m map[string]json.RawMessage
	if err := strictjson.Unmarshal(data, &m, strictjson.Options{}); err != nil {
		return nil, "", err
	}
	var raws []json.RawMessage
	if err := unmarshalMember(m, "images", &raws); err != nil || raws == nil {
		return nil, "", fmt.Errorf("member \"images\" is not an array of records (%v)", err)
	}
	var next string
	if err := unmarshalMember(m, "next", &next); err != nil {
		return nil, "", err
	}
	imgs := make([]Image, 0, len(raws))
	for i, raw := range raws {
		if int64(len(raw)) > positive(maxRecord, DefaultMaxRecord) {
			return nil, "", fmt.Errorf("images[%d]: record larger than %d bytes (--max-image-record)", i, positive(maxRecord, DefaultMaxRecord))
		}
		img, err := DecodeRecord(raw)
		if err == nil {
			err = wellFormed(img)
		}
		if err != nil {
			return nil, "", fmt.Errorf("images[%d]: %v", i, err)
		}
		imgs = append(imgs, img)
	}
	return imgs, next, nil
}

// unmarshalMember decodes m[key] into dst; a missing or null member
// leaves dst as it is.
func unmarshalMember(m map[string]json.RawMessage, key string, dst any) error {
	raw, ok := m[key]
	if !ok || string(raw) == "null" {
		return nil
	}
	if err := json.Unmarshal(raw, dst); err != nil {
		return fmt.Errorf("member %q: %v", key, err)
	}
	return nil
}

// nextURL turns a page's next link into the URL to get: only a link to
// this endpoint's image list (Glance sends "/v2/images?marker=..."), with
// its query, is followed; the host, scheme and path are always ours.
func (g *glance) nextURL(next string) (string, error) {
	u, err := url.Parse(next)
	if err != nil || u.User != nil || u.Fragment != "" || u.Opaque != "" {
		return "", fmt.Errorf("next link %s is not a relative URL", quote(next))
	}
	list := g.sc.ServiceURL("images")
	lu, err := url.Parse(list)
	if err != nil {
		return "", err
	}
	if (u.Scheme != "" || u.Host != "") && (u.Scheme != lu.Scheme || u.Host != lu.Host) {
		return "", fmt.Errorf("next link %s leads to another host", quote(next))
	}
	if u.Path != "/v2/images" && u.Path != lu.Path {
		return "", fmt.Errorf("next link %s is not this image list", quote(next))
	}
	if u.RawQuery == "" {
		return "", fmt.Errorf("next link %s has no marker", quote(next))
	}
	return list + "?" + u.RawQuery, nil
}

// quote quotes s for an error message, cut short: a hostile service's
// strings go into errors that reach logs and callers.
func quote(s string) string {
	if len(s) > 80 {
		s = s[:80] + "..."
	}
	return fmt.Sprintf("%q", s)
}

func positive(v, def int64) int64 {
	if v <= 0 {
		return def
	}
	return v
}
