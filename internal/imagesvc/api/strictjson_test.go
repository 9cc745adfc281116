package api

import (
	"net/http"
	"strings"
	"testing"

	"github.com/gophercloud/gophercloud/v2/openstack/image/v2/images"
)

// TestStrictJSONBodies: every JSON body the image service reads refuses
// members a lenient decoder would resolve silently (the last duplicate
// winning, a case-folded twin overriding the core field), invalid UTF-8 and
// lone surrogates, with a 400 naming the member and no change behind.
func TestStrictJSONBodies(t *testing.T) {
	e := newEnv(t, nil)
	id := e.mkImage(t, tokAlice, images.CreateOpts{Visibility: vis(images.ImageVisibilityShared)})
	img := "/v2/images/" + id
	for _, tc := range []struct {
		name, method, path, ctype, body, msg string
	}{
		{"create duplicate", "POST", "/v2/images", "application/json", `{"name":"a","name":"b"}`, `duplicate member "name"`},
		{"create case twin", "POST", "/v2/images", "application/json", `{"disk_format":"qcow2","diſk_format":"raw"}`, `"disk_format" and "diſk_format" differ only in case`},
		{"create upper twin", "POST", "/v2/images", "application/json", `{"name":"a","NAME":"b"}`, `differ only in case`},
		{"create invalid utf-8", "POST", "/v2/images", "application/json", "{\"name\":\"a\xff\"}", "UTF-8"},
		{"create lone surrogate", "POST", "/v2/images", "application/json", `{"name":"a\udc00"}`, "surrogate"},
		{"patch duplicate in op", "PATCH", img, patchMediaType, `[{"op":"add","path":"/name","path":"/owner","value":"x"}]`, `duplicate member "path"`},
		{"patch case twin", "PATCH", img, patchMediaType, `[{"op":"add","path":"/name","PATH":"/owner","value":"x"}]`, `differ only in case`},
		{"member duplicate", "POST", img + "/members", "application/json", `{"member":"p2","member":"p3"}`, `duplicate member "member"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := e.count(t)
			code, body, _ := e.do(t, tc.method, tc.path, tokAlice, tc.ctype, strings.NewReader(tc.body))
			// The error body's shape follows Accept (none here: plain text).
			if code != http.StatusBadRequest || !strings.Contains(body, tc.msg) {
				t.Fatalf("got %d %s; want 400 mentioning %q", code, body, tc.msg)
			}
			if after := e.count(t); after != before {
				t.Fatalf("images %d -> %d", before, after)
			}
		})
	}
	if code, body, _ := e.do(t, "GET", img+"/members", tokAlice, "", nil); code != http.StatusOK || strings.Contains(body, "p2") || strings.Contains(body, "p3") {
		t.Fatalf("a refused member request left a member: %d %s", code, body)
	}
}
