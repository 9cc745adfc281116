package api

import (
	"bytes"
	"context"
	"crypto/md5"
	"crypto/sha512"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gophercloud/gophercloud/v2/openstack/image/v2/images"

	"github.com/cowdisk/cowdisk/internal/imageformat/imagetest"
	"github.com/cowdisk/cowdisk/internal/imagesvc/catalog"
	"github.com/cowdisk/cowdisk/internal/imagesvc/staging"
	"github.com/cowdisk/cowdisk/internal/imagesvc/store/storetest"
	"github.com/cowdisk/cowdisk/internal/imagesvc/webdownload"
)

// withImport turns both import methods on; web-download admits allow.
func (e *env) withImport(t *testing.T, allow ...string) *staging.Area {
	t.Helper()
	area, err := staging.New(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	e.api.cfg.Import.Staging = area
	t.Cleanup(func() { e.api.Close() })
	if len(allow) > 0 {
		a, err := webdownload.ParseAllow(allow)
		if err != nil {
			t.Fatal(err)
		}
		f, err := webdownload.New(webdownload.Options{Allow: a, MaxSize: e.api.cfg.MaxImageSize,
			StallTimeout: 300 * time.Millisecond, Timeout: 10 * time.Second})
		if err != nil {
			t.Fatal(err)
		}
		e.api.cfg.Import.WebDownload = f
	}
	return area
}

// waitImport polls until the background import of id has ended.
func (e *env) waitImport(t *testing.T, id string) catalog.Image {
	t.Helper()
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		img, err := e.cat.Get(context.Background(), id)
		if err != nil {
			t.Fatal(err)
		}
		if img.Status != statusImporting && img.Properties[propTask] == "" {
			return img
		}
	}
	t.Fatalf("import of %s did not end", id)
	return catalog.Image{}
}

// dirEntries lists dir, temporary files included.
func dirEntries(t *testing.T, dir string) []string {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, d := range ents {
		names = append(names, d.Name())
	}
	return names
}

func TestImportInfo(t *testing.T) {
	e := newEnv(t, nil)
	if _, body, _ := e.do(t, "GET", "/v2/info/import", tokAlice, "", nil); !contains(body, `"value":[]`) {
		t.Fatalf("methods off: %s", body)
	}
	if _, _, h := e.do(t, "POST", "/v2/images", tokAlice, "application/json", strings.NewReader(`{}`)); h.Get("OpenStack-image-import-methods") != "" {
		t.Fatal("import methods header without import methods")
	}
	e.withImport(t, "127.0.0.1")
	if _, _, h := e.do(t, "POST", "/v2/images", tokAlice, "application/json", strings.NewReader(`{}`)); h.Get("OpenStack-image-import-methods") != "glance-direct,web-download" {
		t.Fatalf("import methods header on create: %q", h.Get("OpenStack-image-import-methods"))
	}
	code, body, _ := e.do(t, "GET", "/v2/info/import", tokAlice, "", nil)
	if code != 200 || !contains(body, `"value":["glance-direct","web-download"]`) || contains(body, "copy-image") {
		t.Fatalf("%d %s", code, body)
	}
}

// TestGlanceDirect stages and imports an image: the data ends in the store
// with Glance's hashes, the task properties are cleared and nothing stays
// staged.
func TestGlanceDirect(t *testing.T) {
	e := newEnv(t, nil)
	area := e.withImport(t)
	data := storetest.Data(3<<20, 7)
	id := e.mkImage(t, tokAlice, images.CreateOpts{})
	code, body, _ := e.do(t, "PUT", "/v2/images/"+id+"/stage", tokAlice, "application/octet-stream", bytes.NewReader(data))
	if code != http.StatusNoContent {
		t.Fatalf("stage: %d %s", code, body)
	}
	if img, _ := e.cat.Get(context.Background(), id); img.Status != statusUploading || len(dirEntries(t, area.Dir())) != 1 {
		t.Fatalf("after stage: %s, staged %v", img.Status, dirEntries(t, area.Dir()))
	}
	code, body, _ = e.do(t, "POST", "/v2/images/"+id+"/import", tokAlice, "application/json",
		strings.NewReader(`{"method":{"name":"glance-direct"}}`))
	if code != http.StatusAccepted {
		t.Fatalf("import: %d %s", code, body)
	}
	img := e.waitImport(t, id)
	md, sh := md5.Sum(data), sha512.Sum512(data)
	if img.Status != catalog.StatusActive || *img.Size != int64(len(data)) ||
		*img.Checksum != hex.EncodeToString(md[:]) || *img.OSHashValue != hex.EncodeToString(sh[:]) {
		t.Fatalf("imported image: %s size %v", img.Status, img.Size)
	}
	if img.Properties[propFailed] != "" || img.Properties[propImporting] != "" {
		t.Fatalf("task properties left: %v", img.Properties)
	}
	if staged := dirEntries(t, area.Dir()); len(staged) != 0 {
		t.Fatalf("staged data left: %v", staged)
	}
	_, got, _ := e.do(t, "GET", "/v2/images/"+id+"/file", tokAlice, "", nil)
	if got != string(data) {
		t.Fatal("downloaded data differs from the staged data")
	}
}

// TestImportRefusals checks Glance's status codes for wrong states and
// methods; none changes the image or leaves data.
func TestImportRefusals(t *testing.T) {
	e := newEnv(t, nil)
	area := e.withImport(t)
	queued := e.mkImage(t, tokAlice, images.CreateOpts{})
	active := e.mkImage(t, tokAlice, images.CreateOpts{})
	if code, body, _ := e.do(t, "PUT", "/v2/images/"+active+"/file", tokAlice, "application/octet-stream",
		strings.NewReader("data")); code != http.StatusNoContent {
		t.Fatalf("upload: %d %s", code, body)
	}
	noFormat := e.mkImage(t, tokAlice, images.CreateOpts{DiskFormat: "raw"})
	direct := `{"method":{"name":"glance-direct"}}`
	for _, tc := range []struct {
		name, method, path, token, body string
		code                            int
		msg                             string
	}{
		{"direct before stage", "POST", queued + "/import", tokAlice, direct, 409, "needs to be staged"},
		{"active image", "POST", active + "/import", tokAlice, direct, 409, "active cannot be target"},
		{"copy-image", "POST", queued + "/import", tokAlice, `{"method":{"name":"copy-image"}}`, 400, "unknown import method"},
		{"web-download off", "POST", queued + "/import", tokAlice, `{"method":{"name":"web-download","uri":"http://x/"}}`, 400, "unknown import method"},
		{"no method", "POST", queued + "/import", tokAlice, `{}`, 400, "'method'"},
		{"no name", "POST", queued + "/import", tokAlice, `{"method":{}}`, 400, "'name'"},
		{"method not an object", "POST", queued + "/import", tokAlice, `{"method":"glance-direct"}`, 400, "import request"},
		{"unknown store", "POST", queued + "/import", tokAlice, `{"method":{"name":"glance-direct"},"stores":["ceph2"]}`, 409, "unknown store"},
		{"other project", "POST", queued + "/import", tokBob, direct, 404, "not found"},
		{"reader", "POST", queued + "/import", tokReader, direct, 403, "read-only"},
		{"stage to active", "PUT", active + "/stage", tokAlice, "data", 409, "uploaded once"},
		{"stage without formats", "PUT", noFormat + "/stage", tokAlice, "data", 400, "disk_format"},
		{"stage by reader", "PUT", queued + "/stage", tokReader, "data", 403, "read-only"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctype := "application/json"
			if tc.method == "PUT" {
				ctype = "application/octet-stream"
			}
			code, body, _ := e.do(t, tc.method, "/v2/images/"+tc.path, tc.token, ctype, strings.NewReader(tc.body))
			if code != tc.code || !contains(body, tc.msg) {
				t.Fatalf("%d %s, want %d %q", code, body, tc.code, tc.msg)
			}
		})
	}
	for _, id := range []string{queued, noFormat} {
		if img, _ := e.cat.Get(context.Background(), id); img.Status != catalog.StatusQueued || img.Properties[propTask] != "" {
			t.Fatalf("refused requests changed image %s: %s %v", id, img.Status, img.Properties)
		}
	}
	if staged := dirEntries(t, area.Dir()); len(staged) != 0 {
		t.Fatalf("refused requests staged %v", staged)
	}
	if code, body, _ := e.do(t, "PUT", "/v2/images/"+queued+"/stage", tokAlice, "application/octet-stream",
		stream(make([]byte, 65<<20))); code != http.StatusRequestEntityTooLarge {
		t.Fatalf("staging more than the cap: %d %s", code, body)
	}
	if img, _ := e.cat.Get(context.Background(), queued); img.Status != catalog.StatusQueued || len(dirEntries(t, area.Dir())) != 0 {
		t.Fatalf("after a too large stage: %s, staged %v", img.Status, dirEntries(t, area.Dir()))
	}
}

// TestGlanceDirectFormatLie stages qcow2 bytes declared raw: refused,
// nothing staged or stored, image queued with the failure recorded.
func TestGlanceDirectFormatLie(t *testing.T) {
	e := newEnv(t, nil)
	area := e.withImport(t)
	qcow := qcow2File(t)
	id := e.mkImage(t, tokAlice, images.CreateOpts{DiskFormat: "raw", ContainerFormat: "bare"})
	f, err := os.Open(qcow)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	code, body, _ := e.do(t, "PUT", "/v2/images/"+id+"/stage", tokAlice, "application/octet-stream", f)
	if code != http.StatusBadRequest || !contains(body, "format mismatch") {
		t.Fatalf("%d %s", code, body)
	}
	img, _ := e.cat.Get(context.Background(), id)
	if img.Status != catalog.StatusQueued || img.Properties[propFailed] != "file" {
		t.Fatalf("after the lie: %s %v", img.Status, img.Properties)
	}
	if len(dirEntries(t, area.Dir())) != 0 || len(e.storedFiles(t)) != 0 {
		t.Fatalf("left behind: staged %v stored %v", dirEntries(t, area.Dir()), e.storedFiles(t))
	}
}

func qcow2File(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	src, qcow := filepath.Join(dir, "src.raw"), filepath.Join(dir, "disk.qcow2")
	imagetest.WriteSource(t, src, 2<<20, 40, 1)
	imagetest.Run(t, "convert", "-f", "raw", "-O", "qcow2", src, qcow)
	return qcow
}

// webOrigin is a loopback server the tests allow explicitly.
func webOrigin(t *testing.T, h http.HandlerFunc) (*httptest.Server, *atomic.Int32) {
	var hits atomic.Int32
	s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		h(w, r)
	}))
	t.Cleanup(s.Close)
	return s, &hits
}

func webImport(uri string) io.Reader {
	return strings.NewReader(`{"method":{"name":"web-download","uri":"` + uri + `"}}`)
}

func TestWebDownload(t *testing.T) {
	data := storetest.Data(2<<20, 3)
	qcow, err := os.ReadFile(qcow2File(t))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name   string
		h      http.HandlerFunc
		status string
	}{
		{"good", func(w http.ResponseWriter, _ *http.Request) { w.Write(data) }, catalog.StatusActive},
		{"format lie", func(w http.ResponseWriter, _ *http.Request) { w.Write(qcow) }, catalog.StatusQueued},
		{"longer than declared: only the declared bytes are read", func(w http.ResponseWriter, _ *http.Request) {
			// net/http will not send more than Content-Length; a raw answer will.
			conn, buf, err := w.(http.Hijacker).Hijack()
			if err != nil {
				return
			}
			defer conn.Close()
			fmt.Fprintf(buf, "HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n", len(data))
			buf.Write(data)
			buf.Write(qcow) // beyond the declared length: never read
			buf.Flush()
		}, catalog.StatusActive},
		{"shorter than declared", func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Length", "5000000")
			w.Write(data)
		}, catalog.StatusQueued},
		{"chunked, above the cap", func(w http.ResponseWriter, _ *http.Request) {
			for range 70 {
				w.Write(make([]byte, 1<<20))
				w.(http.Flusher).Flush()
			}
		}, catalog.StatusQueued},
		{"stalled body", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Length", "5000000")
			w.Write(data[:1<<20])
			w.(http.Flusher).Flush()
			<-r.Context().Done()
		}, catalog.StatusQueued},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, nil)
			e.withImport(t, "127.0.0.1")
			origin, _ := webOrigin(t, tc.h)
			id := e.mkImage(t, tokAlice, images.CreateOpts{})
			code, body, _ := e.do(t, "POST", "/v2/images/"+id+"/import", tokAlice, "application/json", webImport(origin.URL+"/img"))
			if code != http.StatusAccepted {
				t.Fatalf("%d %s", code, body)
			}
			img := e.waitImport(t, id)
			if img.Status != tc.status {
				t.Fatalf("status %s, want %s", img.Status, tc.status)
			}
			if tc.status == catalog.StatusActive {
				sum := md5.Sum(data)
				if *img.Checksum != hex.EncodeToString(sum[:]) || *img.Size != int64(len(data)) || len(e.storedFiles(t)) != 1 {
					t.Fatalf("imported: %v, files %v", *img.Checksum, e.storedFiles(t))
				}
				return
			}
			if img.Properties[propFailed] != "file" || len(img.Locations) != 0 || len(e.storedFiles(t)) != 0 {
				t.Fatalf("failed import: %v, locations %v, files %v", img.Properties, img.Locations, e.storedFiles(t))
			}
		})
	}
}

// TestWebDownloadRefused: URLs the allow-list does not admit are a 400
// before any connection and change nothing; credentials are not echoed.
func TestWebDownloadRefused(t *testing.T) {
	e := newEnv(t, nil)
	e.withImport(t, "http:") // schemes only: public addresses only
	origin, hits := webOrigin(t, func(w http.ResponseWriter, _ *http.Request) { w.Write([]byte("x")) })
	id := e.mkImage(t, tokAlice, images.CreateOpts{})
	port := origin.URL[strings.LastIndex(origin.URL, ":"):]
	for _, uri := range []string{origin.URL, "http://user:hunter2@127.0.0.1" + port + "/f",
		"http://169.254.169.254/latest/meta-data", "http://10.0.0.1" + port, "file:///etc/passwd"} {
		code, body, _ := e.do(t, "POST", "/v2/images/"+id+"/import", tokAlice, "application/json", webImport(uri))
		if code != http.StatusForbidden && code != http.StatusBadRequest {
			t.Fatalf("%s: %d %s", uri, code, body)
		}
		if contains(body, "hunter2") || contains(body, "user:") {
			t.Fatalf("answer echoes credentials: %s", body)
		}
	}
	if hits.Load() != 0 {
		t.Fatalf("refused URLs reached the server %d times", hits.Load())
	}
	if img, _ := e.cat.Get(context.Background(), id); img.Status != catalog.StatusQueued || len(img.Properties) != 0 {
		t.Fatalf("refused imports changed the image: %s %v", img.Status, img.Properties)
	}
}

// TestImportsBounded: with every import slot taken, another import is a
// 429 that changes nothing; the slot is free again once the import ends.
func TestImportsBounded(t *testing.T) {
	e := newEnv(t, nil)
	e.withImport(t, "127.0.0.1")
	e.api.imports = newImportRuns(1)
	stop := make(chan struct{})
	origin, _ := webOrigin(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", "1000000")
		for {
			select {
			case <-stop:
				return // short body: the import fails
			case <-time.After(50 * time.Millisecond):
				w.Write([]byte("x")) // slow but never stalled
				w.(http.Flusher).Flush()
			}
		}
	})
	a, b := e.mkImage(t, tokAlice, images.CreateOpts{}), e.mkImage(t, tokAlice, images.CreateOpts{})
	if code, body, _ := e.do(t, "POST", "/v2/images/"+a+"/import", tokAlice, "application/json", webImport(origin.URL)); code != 202 {
		t.Fatalf("first import: %d %s", code, body)
	}
	code, body, _ := e.do(t, "POST", "/v2/images/"+b+"/import", tokAlice, "application/json", webImport(origin.URL))
	if code != http.StatusTooManyRequests {
		t.Fatalf("import beyond the bound: %d %s", code, body)
	}
	if img, _ := e.cat.Get(context.Background(), b); img.Status != catalog.StatusQueued || len(img.Properties) != 0 {
		t.Fatalf("refused import changed the image: %s %v", img.Status, img.Properties)
	}
	close(stop)
	if img := e.waitImport(t, a); img.Status != catalog.StatusQueued {
		t.Fatalf("cut import: %s", img.Status)
	}
	// The slot is given back just after the image is requeued: allow a moment.
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		code, body, _ = e.do(t, "POST", "/v2/images/"+b+"/import", tokAlice, "application/json", webImport(origin.URL))
		if code == 202 {
			break
		}
		if code != http.StatusTooManyRequests || time.Now().After(deadline) {
			t.Fatalf("import after the slot was freed: %d %s", code, body)
		}
	}
	e.waitImport(t, b)
}
