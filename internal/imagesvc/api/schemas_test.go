package api

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/gophercloud/gophercloud/v2/openstack/image/v2/images"
)

// TestValidatorRefusesBadDocuments shows the schema check used on every
// answer can fail: each document breaks one rule of the served schemas.
func TestValidatorRefusesBadDocuments(t *testing.T) {
	good := `{"id":"0f0e0d0c-0b0a-4908-8706-050403020100","name":"x","status":"active","disk_format":"raw",
		"container_format":"bare","visibility":"shared","protected":false,"os_hidden":false,"size":1,
		"virtual_size":null,"checksum":null,"tags":["a"],"min_disk":0,"min_ram":0,"os_distro":"debian"}`
	if err := validateAs("image", []byte(good)); err != nil {
		t.Fatalf("good image refused: %v", err)
	}
	for _, tc := range []struct{ kind, name, doc string }{
		{"image", "unknown disk_format", `{"disk_format":"qcow3"}`},
		{"image", "unknown status", `{"status":"sleeping"}`},
		{"image", "bad id", `{"id":"nope"}`},
		{"image", "size as string", `{"size":"1"}`},
		{"image", "non-string extra property", `{"colour":1}`},
		{"image", "long name", `{"name":"` + strings.Repeat("n", 256) + `"}`},
		{"image", "tags not strings", `{"tags":[1]}`},
		{"image", "location without metadata", `{"locations":[{"url":"rbd://a/b/c/d"}]}`},
		{"image", "kernel_id not a uuid", `{"kernel_id":"k"}`},
		{"images", "images not an array", `{"images":{}}`},
		{"images", "bad image in page", `{"images":[{"visibility":"everyone"}]}`},
		{"member", "unknown member status", `{"status":"maybe"}`},
		{"members", "bad member in list", `{"members":[{"image_id":"x"}]}`},
	} {
		if err := validateAs(tc.kind, []byte(tc.doc)); err == nil {
			t.Errorf("%s %s: accepted %s", tc.kind, tc.name, tc.doc)
		}
	}
}

// TestSchemasServed checks the documents clients read: the fields Nova and
// glanceclient need are listed with their types, and unknown kinds and
// metadefs are Glance-shaped 404s.
func TestSchemasServed(t *testing.T) {
	e := newEnv(t, nil)
	for _, kind := range []string{"image", "images", "member", "members"} {
		code, body, _ := e.do(t, "GET", "/v2/schemas/"+kind, "", "", nil)
		var doc struct {
			Name       string                     `json:"name"`
			Properties map[string]json.RawMessage `json:"properties"`
		}
		if code != http.StatusOK || json.Unmarshal([]byte(body), &doc) != nil || doc.Name != kind {
			t.Fatalf("%s: %d %s", kind, code, body)
		}
		for _, want := range map[string][]string{
			"image":   {"disk_format", "container_format", "locations", "direct_url", "status", "os_hidden", "os_distro"},
			"images":  {"images", "first", "next", "schema"},
			"member":  {"member_id", "image_id", "status"},
			"members": {"members", "schema"},
		}[kind] {
			if _, ok := doc.Properties[want]; !ok {
				t.Errorf("schema %s lacks %s", kind, want)
			}
		}
	}
	for _, path := range []string{"/v2/schemas/flavor", "/v2/schemas/metadefs/namespace", "/v2/metadefs/namespaces"} {
		code, body, _ := e.do(t, "GET", path, tokAlice, "", nil, "Accept", "application/json")
		if code != http.StatusNotFound || !contains(body, `"code": "404 Not Found"`) && !contains(body, `"code":"404 Not Found"`) {
			t.Errorf("%s: %d %s", path, code, body)
		}
	}
}

// TestCustomPropertiesFollowSchema: the schema's custom properties keep
// their rules on create and PATCH, so no image the API stores fails the
// schema it serves.
func TestCustomPropertiesFollowSchema(t *testing.T) {
	e := newEnv(t, nil)
	id := e.mkImage(t, tokAlice, images.CreateOpts{})
	uuid := "0f0e0d0c-0b0a-4908-8706-050403020100"
	for _, tc := range []struct {
		body string
		code int
	}{
		{`{"kernel_id":"abc"}`, 400},
		{`{"ramdisk_id":"` + uuid + `x"}`, 400},
		{`{"cinder_encryption_key_deletion_policy":"sometimes"}`, 400},
		{`{"kernel_id":"` + uuid + `","cinder_encryption_key_deletion_policy":"do_not_delete","os_distro":"any"}`, 201},
	} {
		if code, body, _ := e.do(t, "POST", "/v2/images", tokAlice, "application/json", strings.NewReader(tc.body)); code != tc.code {
			t.Errorf("create %s: %d %s", tc.body, code, body)
		}
	}
	code, body, _ := e.do(t, "PATCH", "/v2/images/"+id, tokAlice, patchMediaType,
		strings.NewReader(`[{"op":"add","path":"/kernel_id","value":"k1"}]`))
	if code != 400 || !contains(body, "kernel_id") {
		t.Errorf("patch kernel_id: %d %s", code, body)
	}
}

// FuzzCreateMatchesSchema: whatever create body the API accepts, the image
// it answers with is valid against the schema it serves.
func FuzzCreateMatchesSchema(f *testing.F) {
	for _, seed := range []string{
		`{"name":"debian","disk_format":"qcow2","container_format":"bare","tags":["a","a"],"os_distro":"debian"}`,
		`{"kernel_id":"0f0e0d0c-0b0a-4908-8706-050403020100","min_disk":3,"protected":true,"visibility":"private"}`,
		`{"name":null,"disk_format":null,"cinder_encryption_key_deletion_policy":"on_image_deletion"}`,
		`{"description":"x","owner":"p1","min_ram":0}`,
	} {
		f.Add([]byte(seed))
	}
	s := New(Config{})
	f.Fuzz(func(t *testing.T, body []byte) {
		r := httptest.NewRequest("POST", "/v2/images", bytes.NewReader(body))
		fields, err := decodeObject(r, httptest.NewRecorder())
		if err != nil {
			return
		}
		img, err := newImage(fields, fuzzCaller)
		if err != nil {
			return
		}
		doc, err := json.Marshal(s.view(img, fuzzCaller))
		if err != nil {
			t.Fatal(err)
		}
		if err := validateAs("image", doc); err != nil {
			t.Fatalf("accepted %s, answered an image the schema refuses: %v\n%s", body, err, doc)
		}
	})
}
