package api

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gophercloud/gophercloud/v2/openstack/image/v2/imagedata"
	"github.com/gophercloud/gophercloud/v2/openstack/image/v2/images"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/cowdisk/cowdisk/internal/imagesvc/catalog"
	"github.com/cowdisk/cowdisk/internal/imagesvc/store"
)

// waitStatus polls until the handler of a cut request has cleaned up.
func (e *env) waitStatus(t *testing.T, id, want string) {
	t.Helper()
	var got string
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		img, err := e.cat.Get(context.Background(), id)
		if err != nil {
			t.Fatal(err)
		}
		if got = img.Status; got == want {
			return
		}
	}
	t.Fatalf("image %s is %s, want %s", id, got, want)
}

// TestCutUpload drops the connection in the middle of an upload, with and
// without a declared length: the image goes back to queued, nothing stays
// in the store, and a later upload succeeds.
func TestCutUpload(t *testing.T) {
	e := newEnv(t, nil)
	var uploaded []string
	for _, framing := range []string{"Content-Length: 1048576", "Transfer-Encoding: chunked"} {
		id := e.mkImage(t, tokAlice, images.CreateOpts{})
		conn, err := net.Dial("tcp", e.srv.Listener.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(conn, "PUT /v2/images/%s/file HTTP/1.1\r\nHost: x\r\nX-Auth-Token: %s\r\n"+
			"Content-Type: application/octet-stream\r\n%s\r\n\r\n", id, tokAlice, framing)
		chunk := bytes.Repeat([]byte{1}, 100<<10)
		if strings.HasPrefix(framing, "Transfer") {
			fmt.Fprintf(conn, "%x\r\n%s\r\n", len(chunk), chunk)
		} else {
			conn.Write(chunk)
		}
		e.waitStatus(t, id, catalog.StatusSaving)
		conn.Close()
		e.waitStatus(t, id, catalog.StatusQueued)
		if f := e.storedFiles(t); len(f) != len(uploaded) {
			t.Fatalf("%s: stored after cut: %v", framing, f)
		}
		uploaded = append(uploaded, id)
		if err := imagedata.Upload(context.Background(), e.client(tokAlice), id, stream(chunk)).ExtractErr(); err != nil {
			t.Fatalf("%s: upload after cut: %v", framing, err)
		}
	}
}

// TestDeleteDuringUpload deletes a saving image; the upload then answers
// 410 and removes what it wrote.
func TestDeleteDuringUpload(t *testing.T) {
	e := newEnv(t, nil)
	id := e.mkImage(t, tokAlice, images.CreateOpts{})
	pr, pw := io.Pipe()
	done := make(chan int)
	go func() {
		code, _, _ := e.do(t, "PUT", "/v2/images/"+id+"/file", tokAlice, "application/octet-stream", pr)
		done <- code
	}()
	pw.Write(make([]byte, 1<<20))
	e.waitStatus(t, id, catalog.StatusSaving)
	if code, _, _ := e.do(t, "DELETE", "/v2/images/"+id, tokAlice, "", nil); code != http.StatusNoContent {
		t.Fatalf("delete of saving image: %d", code)
	}
	pw.Write(make([]byte, 1<<20))
	pw.Close()
	if code := <-done; code != http.StatusGone {
		t.Fatalf("upload after delete: %d", code)
	}
	if f := e.storedFiles(t); len(f) != 0 {
		t.Fatalf("stored: %v", f)
	}
}

// inUse is a store whose data always has two dependent disks.
type inUse struct{ store.Store }

func (inUse) Delete(_ context.Context, loc string) error {
	return &store.InUseError{Location: loc, Count: 2}
}

func TestDeleteRefused(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, func(s store.Store) store.Store { return inUse{s} })
	id := e.mkImage(t, tokAlice, images.CreateOpts{})
	if err := imagedata.Upload(ctx, e.client(tokAlice), id, strings.NewReader("data")).ExtractErr(); err != nil {
		t.Fatal(err)
	}
	code, body, _ := e.do(t, "DELETE", "/v2/images/"+id, tokAlice, "", nil)
	if code != http.StatusConflict || !strings.Contains(body, "2 dependent disk") {
		t.Fatalf("delete of image in use: %d %s", code, body)
	}
	if img, _ := images.Get(ctx, e.client(tokAlice), id).Extract(); img == nil || img.Status != images.ImageStatusActive {
		t.Fatalf("image after refused delete: %+v", img)
	}
	prot := true
	pid := e.mkImage(t, tokAlice, images.CreateOpts{Protected: &prot})
	if code, _, _ := e.do(t, "DELETE", "/v2/images/"+pid, tokAlice, "", nil); code != http.StatusForbidden {
		t.Fatalf("delete of protected image: %d", code)
	}
}

func TestVersionsStoresMetrics(t *testing.T) {
	reg := prometheus.NewRegistry()
	e := newEnv(t, nil)
	e.api = New(Config{Catalog: e.cat, Store: e.files, Auth: e.api.cfg.Auth, Registerer: reg})
	h := e.api
	for _, tc := range []struct {
		path string
		code int
		has  string
	}{
		{"/", http.StatusMultipleChoices, "CURRENT"},
		{"/versions", http.StatusOK, "v2.9"},
		// Health is the service's (/livez, /readyz, /healthz from its
		// monitor; see imagesvc's TestHealthMetricsShutdown), not the API's.
		{"/healthz", http.StatusNotFound, ""},
		{"/v2/info/stores", http.StatusOK, `"id":"file"`},
		{"/v2/schemas/image", http.StatusOK, "image"},
		{"/nope", http.StatusNotFound, ""},
	} {
		req, _ := http.NewRequest("GET", tc.path, nil)
		req.Header.Set("X-Auth-Token", tokAlice)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != tc.code || !strings.Contains(rec.Body.String(), tc.has) || rec.Header().Get(requestIDHeader) == "" {
			t.Errorf("%s: %d %s", tc.path, rec.Code, rec.Body.String())
		}
	}
	fams, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, f := range fams {
		for _, m := range f.GetMetric() {
			labels := fmt.Sprint(m.GetLabel())
			if f.GetName() == "cowdisk_images_http_requests_total" && strings.Contains(labels, "GET /v2/info/stores") &&
				m.GetCounter().GetValue() == 1 {
				found = true
			}
		}
	}
	if !found {
		t.Error("no request counter for GET /v2/info/stores")
	}
}

// selfHashed is a store that hashes itself (as rbdstore does via
// ceph.Import); its sums are marked so the test sees which were used.
type selfHashed struct{ store.Store }

func (selfHashed) HashesData() bool { return true }

func (s selfHashed) Put(ctx context.Context, id string, r io.Reader, size int64) (store.Result, error) {
	res, err := s.Store.Put(ctx, id, r, size)
	res.MD5, res.SHA512 = "md5-from-store", "sha512-from-store"
	return res, err
}

func TestStoreHashesUsed(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, func(s store.Store) store.Store { return selfHashed{s} })
	id := e.mkImage(t, tokAlice, images.CreateOpts{})
	if err := imagedata.Upload(ctx, e.client(tokAlice), id, strings.NewReader("data")).ExtractErr(); err != nil {
		t.Fatal(err)
	}
	img, err := images.Get(ctx, e.client(tokAlice), id).Extract()
	if err != nil || img.Checksum != "md5-from-store" || img.Properties["os_hash_value"] != "sha512-from-store" {
		t.Fatalf("%+v %v", img, err)
	}
}
