package auth_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/cowdisk/cowdisk/internal/imagesvc/auth"
	"github.com/cowdisk/cowdisk/internal/imagesvc/imagesvctest"
	"github.com/cowdisk/cowdisk/internal/ostest"
)

// call sends method path with token and returns the status and body.
func call(t testing.TB, url, method, path, token string, body any) (int, map[string]any) {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, url+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json") // errors then come as JSON, as gophercloud reads them
	if token != "" {
		req.Header.Set("X-Auth-Token", token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var m map[string]any
	json.NewDecoder(resp.Body).Decode(&m)
	return resp.StatusCode, m
}

// TestKeystoneImageService runs the image API with Keystone auth against
// the real Keystone: what each role may do, another project's private
// image, bad tokens, and an identity service that is down.
func TestKeystoneImageService(t *testing.T) {
	k, w := sharedKeystone(t)
	url := imagesvctest.Serve(t, validator(t, k, w, 5*time.Second))
	tok := map[string]string{}
	for name, u := range w.users {
		tok[name] = token(t, k, ostest.TokenRequest{User: u.Name, Password: u.Password, ProjectID: u.ProjectID})
	}
	code, img := call(t, url, http.MethodPost, "/v2/images", tok[auth.Member],
		map[string]any{"name": "private-p1", "visibility": "private", "disk_format": "raw", "container_format": "bare"})
	if code != http.StatusCreated || img["owner"] != w.p1 {
		t.Fatalf("member creates: %d %v", code, img)
	}
	path := "/v2/images/" + img["id"].(string)
	cases := []struct {
		who, method string
		want        int
	}{
		{auth.Member, http.MethodGet, http.StatusOK},
		{auth.Reader, http.MethodGet, http.StatusOK},
		{auth.Admin, http.MethodGet, http.StatusOK},
		{auth.Service, http.MethodGet, http.StatusOK},
		{"p2member", http.MethodGet, http.StatusNotFound}, // another project's private image
		{"bad", http.MethodGet, http.StatusUnauthorized},
		{"none", http.MethodGet, http.StatusUnauthorized},
		{"domain", http.MethodGet, http.StatusForbidden},     // not project-scoped
		{auth.Reader, http.MethodPost, http.StatusForbidden}, // readers do not create
	}
	tok["bad"] = "gAAAAAB-not-a-token"
	adm := w.users[auth.Admin]
	tok["domain"] = token(t, k, ostest.TokenRequest{User: adm.Name, Password: adm.Password, DomainID: "default"})
	for _, c := range cases {
		p, body := path, any(nil)
		if c.method == http.MethodPost {
			p, body = "/v2/images", map[string]any{"name": "by-" + c.who}
		}
		if code, m := call(t, url, c.method, p, tok[c.who], body); code != c.want {
			t.Errorf("%s %s as %s: %d %v, want %d", c.method, p, c.who, code, m, c.want)
		}
	}
	t.Run("keystone down", func(t *testing.T) { keystoneDown(t, k, url, path, tok) })
}

// keystoneDown: with Keystone stopped (and then frozen) a token not yet
// cached is 503 naming keystone, not 401; a cached one still works; after
// Keystone is back the same token works with no restart of the service.
func keystoneDown(t *testing.T, k *ostest.Keystone, url, path string, tok map[string]string) {
	ctx := context.Background()
	u := shared.world.users[auth.Member]
	fresh := func() string {
		return token(t, k, ostest.TokenRequest{User: u.Name, Password: u.Password, ProjectID: u.ProjectID})
	}
	stopped, frozen := fresh(), fresh()
	if err := k.Stop(); err != nil {
		t.Fatal(err)
	}
	defer func() { // leave the shared Keystone running for the next test
		if !k.Running() {
			if err := k.Start(ctx); err != nil {
				t.Fatal(err)
			}
		}
	}()
	code, m := call(t, url, http.MethodGet, path, stopped, nil)
	if msg, _ := m["message"].(string); code != http.StatusServiceUnavailable || !strings.Contains(msg, "keystone") {
		t.Fatalf("keystone stopped: %d %v, want 503 naming keystone", code, m)
	}
	if code, _ := call(t, url, http.MethodGet, path, tok[auth.Member], nil); code != http.StatusOK {
		t.Fatalf("cached token with keystone stopped: %d", code)
	}
	if err := k.Start(ctx); err != nil {
		t.Fatal(err)
	}
	recovers(t, url, path, stopped, "after keystone restart")
	// Frozen: the call is bounded by the timeout of the validator.
	if err := k.Pause(); err != nil {
		t.Fatal(err)
	}
	code, m = call(t, url, http.MethodGet, path, frozen, nil)
	if err := k.Resume(); err != nil {
		t.Fatal(err)
	}
	if msg, _ := m["message"].(string); code != http.StatusServiceUnavailable || !strings.Contains(msg, "did not answer") {
		t.Fatalf("keystone frozen: %d %v, want 503 saying it did not answer", code, m)
	}
	recovers(t, url, path, frozen, "after keystone resumed")
}

// recovers: GET path with token answers 200 within a few tries. A
// Keystone just started is slow on its first calls (more so on a loaded
// machine), so one 503 more is allowed; the service needs no restart.
func recovers(t *testing.T, url, path, token, when string) {
	t.Helper()
	var code int
	var m map[string]any
	for range 5 {
		if code, m = call(t, url, http.MethodGet, path, token, nil); code == http.StatusOK {
			return
		}
		if code != http.StatusServiceUnavailable {
			break
		}
	}
	t.Fatalf("%s: %d %v", when, code, m)
}
