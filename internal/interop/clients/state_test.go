//go:build interop

package clients

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/cowdisk/cowdisk/internal/testcluster"
)

// The tests read the service's state back with plain HTTP as admin, so an
// assertion never trusts only what a client printed.

// request sends one request as who and returns the status and body.
func (s *service) request(t *testing.T, who, method, path, ctype string, body []byte) (int, []byte) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, s.url+path, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("X-Auth-Token", s.people[who].token)
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s %s: reading the body: %v", method, path, err)
	}
	return resp.StatusCode, data
}

// image is GET /v2/images/{id} as admin; it fails t unless that is a 200.
func (s *service) image(t *testing.T, id string) map[string]any {
	t.Helper()
	code, body := s.request(t, "admin", http.MethodGet, "/v2/images/"+id, "", nil)
	if code != http.StatusOK {
		t.Fatalf("GET /v2/images/%s: %d %s", id, code, body)
	}
	var img map[string]any
	if err := json.Unmarshal(body, &img); err != nil {
		t.Fatalf("GET /v2/images/%s: %v: %s", id, err, body)
	}
	return img
}

// imageCode is the status of GET /v2/images/{id} as admin.
func (s *service) imageCode(t *testing.T, id string) int {
	t.Helper()
	code, _ := s.request(t, "admin", http.MethodGet, "/v2/images/"+id, "", nil)
	return code
}

// data is the image's bytes as the service serves them to admin.
func (s *service) data(t *testing.T, id string) []byte {
	t.Helper()
	code, body := s.request(t, "admin", http.MethodGet, "/v2/images/"+id+"/file", "", nil)
	if code != http.StatusOK {
		t.Fatalf("GET /v2/images/%s/file: %d %s", id, code, body)
	}
	return body
}

// members is GET /v2/images/{id}/members as who: member id -> status.
func (s *service) members(t *testing.T, who, id string) map[string]string {
	t.Helper()
	code, body := s.request(t, who, http.MethodGet, "/v2/images/"+id+"/members", "", nil)
	if code != http.StatusOK {
		t.Fatalf("GET /v2/images/%s/members: %d %s", id, code, body)
	}
	var list struct {
		Members []struct {
			MemberID string `json:"member_id"`
			Status   string `json:"status"`
		} `json:"members"`
	}
	if err := json.Unmarshal(body, &list); err != nil {
		t.Fatalf("members of %s: %v: %s", id, err, body)
	}
	out := map[string]string{}
	for _, m := range list.Members {
		out[m.MemberID] = m.Status
	}
	return out
}

// newImage creates an image over plain HTTP as who (setup for tests of
// other verbs) and deletes it when t ends.
func (s *service) newImage(t *testing.T, who string, fields map[string]any) string {
	t.Helper()
	base := map[string]any{"disk_format": "raw", "container_format": "bare"}
	for k, v := range fields {
		base[k] = v
	}
	body, _ := json.Marshal(base)
	code, resp := s.request(t, who, http.MethodPost, "/v2/images", "application/json", body)
	if code != http.StatusCreated {
		t.Fatalf("POST /v2/images %s: %d %s", body, code, resp)
	}
	var img struct{ ID string }
	if err := json.Unmarshal(resp, &img); err != nil || img.ID == "" {
		t.Fatalf("POST /v2/images: no id in %s (%v)", resp, err)
	}
	s.track(t, img.ID)
	return img.ID
}

// newActiveImage is newImage plus an upload of data.
func (s *service) newActiveImage(t *testing.T, who string, fields map[string]any, data []byte) string {
	t.Helper()
	id := s.newImage(t, who, fields)
	code, resp := s.request(t, who, http.MethodPut, "/v2/images/"+id+"/file", "application/octet-stream", data)
	if code != http.StatusNoContent {
		t.Fatalf("PUT /v2/images/%s/file: %d %s", id, code, resp)
	}
	return id
}

// track deletes image id as admin when t ends (unprotecting it first), so
// the stores are empty once every test is done (TestStoresClean).
func (s *service) track(t *testing.T, id string) {
	t.Cleanup(func() {
		unprotect := []byte(`[{"op":"replace","path":"/protected","value":false}]`)
		s.request(t, "admin", http.MethodPatch, "/v2/images/"+id,
			"application/openstack-images-v2.1-json-patch", unprotect)
		code, body := s.request(t, "admin", http.MethodDelete, "/v2/images/"+id, "", nil)
		if code != http.StatusNoContent && code != http.StatusNotFound {
			t.Errorf("cleanup: DELETE /v2/images/%s: %d %s", id, code, body)
		}
	})
}

// trackName deletes, when t ends, every image named name: a client that
// fails after creating an image may not print its id (openstack image
// create --import creates the image, then finds import unsupported).
func (s *service) trackName(t *testing.T, name string) {
	t.Cleanup(func() {
		code, body := s.request(t, "admin", http.MethodGet, "/v2/images?name="+url.QueryEscape(name), "", nil)
		var page struct{ Images []struct{ ID string } }
		if code != http.StatusOK || json.Unmarshal(body, &page) != nil {
			t.Errorf("cleanup: listing images named %q: %d %s", name, code, body)
			return
		}
		for _, img := range page.Images {
			s.request(t, "admin", http.MethodDelete, "/v2/images/"+img.ID, "", nil)
		}
	})
}

// assertStored checks the store itself: whether image id's data is there.
func (s *service) assertStored(t *testing.T, id string, want bool) {
	t.Helper()
	var got bool
	switch s.mode.store {
	case "rbd":
		c := testcluster.Connect(t)
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		var err error
		if got, err = c.Exists(ctx, s.pool, id, ""); err != nil {
			t.Fatalf("rbd %s/%s: %v", s.pool, id, err)
		}
	case "file":
		_, err := os.Stat(filepath.Join(s.fileDir, id))
		got = err == nil
	}
	if got != want {
		t.Errorf("%s store: image %s stored = %v, want %v", s.mode.store, id, got, want)
	}
}

// str reads a field of a decoded image as a string ("" when absent).
func str(img map[string]any, key string) string {
	v, ok := img[key]
	if !ok || v == nil {
		return ""
	}
	switch v := v.(type) {
	case string:
		return v
	case float64: // JSON numbers: 1048576, not 1.048576e+06
		return strconv.FormatFloat(v, 'f', -1, 64)
	}
	return fmt.Sprint(v)
}
