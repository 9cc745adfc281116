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
		rng     []string // the Range header, if any
		code    int
		cutBody int // the full body's length when it is to be cut short
	}{
		{"whole image, nothing read", 0, nil, http.StatusServiceUnavailable, 0},
		{"range, nothing read", 0, []string{"Range", "bytes=4096-8191"}, http.StatusServiceUnavailable, 0},
		{"range cut by the failure", 4096, []string{"Range", "bytes=0-8191"}, http.StatusPartialContent, 8192},
		{"whole image, failing midway", 256 << 10, nil, http.StatusOK, len(data)},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e := newEnv(t, nil)
			id := e.mkImage(t, tokAlice, images.CreateOpts{})
			e.upload(t, id, data)
			e.api.cfg.Store = failingReads{Store: e.files, failAt: c.failAt}
			resp := e.send(t, "GET", "/v2/images/"+id+"/file", tokAlice, "", nil, c.rng...)
			body, err := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != c.code {
				t.Fatalf("status %d (%s), want %d", resp.StatusCode, body, c.code)
			}
			if c.cutBody > 0 {
				if err == nil || len(body) >= c.cutBody {
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
