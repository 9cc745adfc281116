package api

import (
	"bytes"
	"encoding/json"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/cowdisk/cowdisk/internal/imagesvc/auth"
	"github.com/cowdisk/cowdisk/internal/imagesvc/catalog"
	"github.com/cowdisk/cowdisk/internal/imagesvc/store"
)

var fuzzCaller = auth.Principal{Project: "p1", Roles: []string{auth.Member}}

// FuzzPatch feeds arbitrary documents to the JSON-patch decoder and applies
// what it accepts. Invariants: no panic; nothing a client may not set
// (status, locations, checksum, owner for a member) changes; the result
// still renders as JSON.
func FuzzPatch(f *testing.F) {
	for _, seed := range []string{
		`[{"op":"replace","path":"/name","value":"x"}]`,
		`[{"op":"add","path":"/tags","value":["a","b","a"]}]`,
		`[{"op":"add","path":"/a~1b~0c","value":"v"},{"op":"remove","path":"/a~1b~0c"}]`,
		`[{"op":"replace","path":"/min_disk","value":1e3}]`,
		`[{"op":"replace","path":"/visibility","value":"public"}]`,
		`[{"op":"add","path":"/locations","value":[{"url":"rbd://a/b/c/d"}]}]`,
		`[{"op":"replace","path":"/owner","value":"p2"}]`,
		`[{"op":"remove","path":"/os_distro"}]`,
		`[]`, `{}`, `[{"op":"add","path":"","value":null}]`, `[{"op":"add","path":"/x","value":"` + strings.Repeat("a", 70000) + `"}]`,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, doc []byte) {
		ops, err := decodePatch(doc)
		if err != nil {
			if status(err) >= 500 {
				t.Fatalf("decode error maps to %d: %v", status(err), err)
			}
			return
		}
		sum := "abc"
		img := catalog.Image{ID: "0f0e0d0c-0b0a-4908-8706-050403020100", Status: catalog.StatusActive,
			Owner: "p1", Visibility: catalog.Private, Checksum: &sum, Tags: []string{},
			Properties: map[string]string{"os_distro": "debian"},
			Locations:  []catalog.Location{{URL: "file:///x"}}}
		before := img
		if err := applyPatch(&img, fuzzCaller, ops); err != nil {
			if c := status(err); c < 400 || c >= 500 {
				t.Fatalf("apply error maps to %d: %v", c, err)
			}
			return
		}
		if img.Status != before.Status || img.Owner != before.Owner || img.Checksum != before.Checksum ||
			len(img.Locations) != 1 || img.Visibility == catalog.Public || img.MinDisk < 0 || img.MinRAM < 0 {
			t.Fatalf("patch changed a protected field: %+v", img)
		}
		s := New(Config{Store: idOnly{}, ShowLocations: true})
		if _, err := json.Marshal(s.view(img, fuzzCaller)); err != nil {
			t.Fatal(err)
		}
	})
}

// idOnly is a store that can only say its name (all the view needs).
type idOnly struct{ store.Store }

func (idOnly) ID() string { return "file" }

// FuzzCreate feeds arbitrary bodies to the create decoder.
func FuzzCreate(f *testing.F) {
	for _, seed := range []string{
		`{"name":"debian","disk_format":"raw","container_format":"bare","tags":["a"],"os_distro":"debian"}`,
		`{"id":"0f0e0d0c-0b0a-4908-8706-050403020100","visibility":"community","min_ram":512,"protected":true}`,
		`{"status":"active"}`, `{"foo":1}`, `{"name":null}`, `[]`, `null`, `{"name":"x"} trailing`,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		r := httptest.NewRequest("POST", "/v2/images", bytes.NewReader(body))
		fields, err := decodeObject(r, httptest.NewRecorder())
		if err == nil {
			var img catalog.Image
			img, err = newImage(fields, fuzzCaller)
			if err == nil {
				if img.Status != catalog.StatusQueued || img.Owner != "p1" || len(img.Locations) != 0 ||
					img.Visibility == catalog.Public || !slices.Contains(visibilities, img.Visibility) {
					t.Fatalf("created image: %+v", img)
				}
				if _, err := parseID(img.ID); err != nil {
					t.Fatal(err)
				}
			}
		}
		if err != nil && (status(err) < 400 || status(err) >= 500) {
			t.Fatalf("error maps to %d: %v", status(err), err)
		}
	})
}
