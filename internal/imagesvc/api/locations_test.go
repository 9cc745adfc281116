package api

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/gophercloud/gophercloud/v2/openstack/image/v2/images"

	"github.com/cowdisk/cowdisk/internal/imagesvc/catalog"
)

const jsonPatch = "application/openstack-images-v2.1-json-patch"

// TestLocationsRefused: every way of adding a location that must fail
// fails with a 4xx and leaves the image queued without locations; no
// answer repeats credentials. (The accepted case needs the RBD store:
// imagesvc's TestLocationsRBD.)
func TestLocationsRefused(t *testing.T) {
	e := newEnv(t, nil)
	id := e.mkImage(t, tokAlice, images.CreateOpts{})
	rbd := `rbd://675cdd9a-37c6-4a7a-be54-7a8ca7b69158/images/` + id + `/snap`
	patch := func(v string) string { return `[{"op":"add","path":"/locations/-","value":` + v + `}]` }
	for _, tc := range []struct {
		name, method, token, ctype, body string
		code                             int
		msg                              string
	}{
		{"owner, POST", "POST", tokAlice, "application/json", `{"url":"` + rbd + `"}`, 403, "service or admin"},
		{"owner, patch", "PATCH", tokAlice, jsonPatch, patch(`{"url":"` + rbd + `","metadata":{}}`), 403, "service or admin"},
		{"reader, patch", "PATCH", tokReader, jsonPatch, patch(`{"url":"` + rbd + `","metadata":{}}`), 403, "service or admin"},
		{"file store takes none", "POST", tokSvc, "application/json", `{"url":"` + rbd + `"}`, 400, "accepts no locations"},
		{"file store, patch", "PATCH", tokSvc, jsonPatch, patch(`{"url":"` + rbd + `","metadata":{}}`), 400, "accepts no locations"},
		{"userinfo", "POST", tokSvc, "application/json", `{"url":"rbd://admin:hunter2@x/images/` + id + `/snap"}`, 400, "userinfo"},
		{"userinfo, patch", "PATCH", tokSvc, jsonPatch, patch(`{"url":"http://u:hunter2@h/x","metadata":{}}`), 400, "userinfo"},
		{"no url", "POST", tokSvc, "application/json", `{}`, 400, "needs a url"},
		{"unknown field", "POST", tokSvc, "application/json", `{"url":"` + rbd + `","size":5}`, 400, "unknown field"},
		{"bad md5", "POST", tokSvc, "application/json", `{"url":"` + rbd + `","validation_data":{"checksum":"xyz"}}`, 400, "md5"},
		{"hash algo alone", "POST", tokSvc, "application/json", `{"url":"` + rbd + `","validation_data":{"os_hash_algo":"sha512"}}`, 400, "go together"},
		{"sha256", "POST", tokSvc, "application/json", `{"url":"` + rbd + `","validation_data":{"os_hash_algo":"sha256","os_hash_value":"` + strings.Repeat("a", 64) + `"}}`, 400, "sha512"},
		{"replace locations", "PATCH", tokSvc, jsonPatch, `[{"op":"replace","path":"/locations","value":[]}]`, 400, "only one add"},
		{"two adds", "PATCH", tokSvc, jsonPatch,
			`[{"op":"add","path":"/locations/-","value":{"url":"a"}},{"op":"add","path":"/locations/-","value":{"url":"b"}}]`, 400, "only one add"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := "/v2/images/" + id
			if tc.method == "POST" {
				path += "/locations"
			}
			code, body, _ := e.do(t, tc.method, path, tc.token, tc.ctype, strings.NewReader(tc.body))
			if code != tc.code || !contains(body, tc.msg) || contains(body, "hunter2") {
				t.Fatalf("%d %s, want %d %q", code, body, tc.code, tc.msg)
			}
		})
	}
	img, _ := e.cat.Get(context.Background(), id)
	if img.Status != catalog.StatusQueued || len(img.Locations) != 0 || img.Size != nil {
		t.Fatalf("refused locations changed the image: %s %v", img.Status, img.Locations)
	}
	// An ordinary patch still works after the hook read the body.
	if code, body, _ := e.do(t, "PATCH", "/v2/images/"+id, tokAlice, jsonPatch,
		strings.NewReader(`[{"op":"replace","path":"/name","value":"renamed"}]`)); code != 200 || !contains(body, "renamed") {
		t.Fatalf("plain patch: %d %s", code, body)
	}
}

func TestGetLocations(t *testing.T) {
	e := newEnv(t, nil)
	id := e.mkImage(t, tokAlice, images.CreateOpts{})
	e.do(t, "PUT", "/v2/images/"+id+"/file", tokAlice, "application/octet-stream", strings.NewReader("data"))
	for tok, code := range map[string]int{tokAlice: 403, tokReader: 403, tokSvc: 200, tokAdmin: 200} {
		got, body, _ := e.do(t, "GET", "/v2/images/"+id+"/locations", tok, "", nil)
		if got != code || (code == 200 && !contains(body, `"url":"file://`)) {
			t.Fatalf("%s: %d %s", tok, got, body)
		}
	}
}

// TestLocationsVisibleToOwner: the policy shows locations to the owner
// project of an image only; off, only admin and service see them.
func TestLocationsVisibleToOwner(t *testing.T) {
	e := newEnv(t, nil)
	id := e.mkImage(t, tokAdmin, images.CreateOpts{Visibility: vis(images.ImageVisibilityPublic)})
	own := e.mkImage(t, tokAlice, images.CreateOpts{})
	for _, i := range []string{id, own} {
		e.do(t, "PUT", "/v2/images/"+i+"/file", tokAdmin, "application/octet-stream", strings.NewReader("data"))
	}
	sees := func(tok, img string) bool {
		_, body, _ := e.do(t, "GET", "/v2/images/"+img, tok, "", nil)
		return contains(body, "direct_url")
	}
	if sees(tokAlice, own) || !sees(tokSvc, own) {
		t.Fatal("default policy: owner sees locations or service does not")
	}
	e.api.cfg.LocationsVisibleToOwner = true
	if !sees(tokAlice, own) || !sees(tokReader, own) || sees(tokAlice, id) || sees(tokBob, id) {
		t.Fatal("owner policy: owner project does not see its own image's locations, or sees another's")
	}
	if code, _, _ := e.do(t, "GET", "/v2/images/"+own+"/locations", tokAlice, "", nil); code != http.StatusForbidden {
		t.Fatalf("owner policy must not open the service locations API: %d", code)
	}
}
