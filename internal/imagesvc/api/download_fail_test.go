package api

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/gophercloud/gophercloud/v2/openstack/image/v2/images"

	"github.com/cowdisk/cowdisk/internal/errs"
	"github.com/cowdisk/cowdisk/internal/imagesvc/store"
)

// failingReads is a store whose objects fail every read at or past
// failAt with Ceph's "not answering".
type failingReads struct {
	store.Store
	failAt int64
}

func (s failingReads) Open(ctx context.Context, loc string) (store.Object, error) {
	o, err := s.Store.Open(ctx, loc)
	return failingObject{Object: o, failAt: s.failAt}, err
}

type failingObject struct {
	store.Object
	failAt int64
}

func (o failingObject) ReadAt(p []byte, off int64) (int, error) {
	if off+int64(len(p)) <= o.failAt {
		return o.Object.ReadAt(p, off)
	}
	n, _ := o.Object.ReadAt(p[:max(0, o.failAt-off)], off)
	return n, fmt.Errorf("rbd read: timed out: %w", errs.ErrTimeout)
}

// A store that fails before any byte is sent answers 503 with Glance's
// error body (the client can tell "storage down" from a lie); one that
// fails after the first bytes ends the body short of its length.
func TestDownloadStoreFails(t *testing.T) {
	data := []byte(strings.Repeat("cowdisk!", 64<<10)) // 512 KiB
	cases := []struct {
		name    string
		failAt  int64
		rng     string
		code    int
		cutBody bool
	}{
		{"whole image, nothing read", 0, "", http.StatusServiceUnavailable, false},
		{"range, nothing read", 0, "bytes=4096-8191", http.StatusServiceUnavailable, false},
		{"range past the failure", 1 << 10, "bytes=4096-8191", http.StatusServiceUnavailable, false},
		{"whole image, failing midway", 256 << 10, "", http.StatusOK, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e := newEnv(t, func(s store.Store) store.Store { return failingReads{Store: s, failAt: int64(len(data))} })
			id := e.mkImage(t, tokAlice, images.CreateOpts{})
			e.upload(t, id, data)
			e.api.cfg.Store = failingReads{Store: e.files, failAt: c.failAt}
			resp := e.get(t, "/v2/images/"+id+"/file", tokAlice, c.rng)
			body, err := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != c.code {
				t.Fatalf("status %d (%s), want %d", resp.StatusCode, body, c.code)
			}
			if c.cutBody {
				if err == nil || int64(len(body)) >= int64(len(data)) {
					t.Fatalf("body of %d bytes, err %v: want it cut short with an error", len(body), err)
				}
				return
			}
			if err != nil || !contains(string(body), "503 Service Unavailable") || !contains(string(body), id+": its data cannot be read now") {
				t.Fatalf("body %q err %v: want Glance's error body for 503 naming the image", body, err)
			}
			// Nothing of the image's headers on the error.
			for _, h := range []string{"Content-MD5", "Content-Range", "Accept-Ranges"} {
				if v := resp.Header.Get(h); v != "" {
					t.Errorf("%s: %q on the error answer", h, v)
				}
			}
		})
	}
}

// get sends GET path with an optional Range and returns the response with
// its body unread.
func (e *env) get(t *testing.T, path, token, rng string) *http.Response {
	t.Helper()
	req, err := http.NewRequest("GET", e.srv.URL+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("X-Auth-Token", token)
	if rng != "" {
		req.Header.Set("Range", rng)
	}
	resp, err := e.srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	return resp
}
