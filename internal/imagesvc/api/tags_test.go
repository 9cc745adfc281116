package api

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/gophercloud/gophercloud/v2/openstack/image/v2/images"
)

// TestTagRoutes: PUT and DELETE /v2/images/{id}/tags/{tag} as Glance
// answers them (204, a set, 404 for a tag the image lacks, 400 past 255
// characters, 413 past 128 tags, 403 for others' images).
func TestTagRoutes(t *testing.T) {
	e := newEnv(t, nil)
	id := e.mkImage(t, tokAlice, images.CreateOpts{Tags: []string{"base"}, Visibility: vis(images.ImageVisibilityCommunity)})
	tagPath := func(tag string) string { return "/v2/images/" + id + "/tags/" + url.PathEscape(tag) }
	steps := []struct {
		name, method, tag, tok string
		code                   int
		tags                   []string
	}{
		{"add", "PUT", "debian 12/x", tokAlice, 204, []string{"base", "debian 12/x"}},
		{"add again", "PUT", "debian 12/x", tokAlice, 204, []string{"base", "debian 12/x"}},
		{"other project", "PUT", "mine", tokBob, 403, []string{"base", "debian 12/x"}},
		{"reader", "DELETE", "base", tokReader, 403, []string{"base", "debian 12/x"}},
		{"too long", "PUT", strings.Repeat("t", 256), tokAlice, 400, []string{"base", "debian 12/x"}},
		{"remove", "DELETE", "base", tokAlice, 204, []string{"debian 12/x"}},
		{"remove missing", "DELETE", "base", tokAlice, 404, []string{"debian 12/x"}},
		{"admin adds", "PUT", "ok", tokAdmin, 204, []string{"debian 12/x", "ok"}},
	}
	for _, s := range steps {
		code, body, _ := e.do(t, s.method, tagPath(s.tag), s.tok, "", nil)
		if code != s.code {
			t.Fatalf("%s: %d %s, want %d", s.name, code, body, s.code)
		}
		if got := e.record(t, id).Tags; !slices.Equal(got, s.tags) {
			t.Fatalf("%s: tags %v, want %v", s.name, got, s.tags)
		}
	}
	// gophercloud sees the tags in the record.
	img, err := images.Get(context.Background(), e.client(tokAlice), id).Extract()
	if err != nil || !slices.Equal(img.Tags, []string{"debian 12/x", "ok"}) {
		t.Fatalf("record: %v %v", img.Tags, err)
	}
	for i := len(img.Tags); i < DefaultLimits.MaxTags; i++ {
		if code, body, _ := e.do(t, "PUT", tagPath(fmt.Sprint("t", i)), tokAlice, "", nil); code != http.StatusNoContent {
			t.Fatalf("tag %d: %d %s", i, code, body)
		}
	}
	code, body, _ := e.do(t, "PUT", tagPath("one-too-many"), tokAlice, "", nil)
	if code != http.StatusRequestEntityTooLarge || !contains(body, "128") || len(e.record(t, id).Tags) != DefaultLimits.MaxTags {
		t.Fatalf("tag past the quota: %d %s, %d tags", code, body, len(e.record(t, id).Tags))
	}
	if code, _, _ := e.do(t, "PUT", "/v2/images/0f0e0d0c-0b0a-4908-8706-050403020100/tags/x", tokAlice, "", nil); code != 404 {
		t.Fatalf("unknown image: %d", code)
	}
}
