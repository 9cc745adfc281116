package api

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/gophercloud/gophercloud/v2/openstack/image/v2/images"

	chunks "github.com/cowdisk/cowdisk/internal/chunklist"
	"github.com/cowdisk/cowdisk/internal/chunklist/chunkstest"
	"github.com/cowdisk/cowdisk/internal/errs"
	"github.com/cowdisk/cowdisk/internal/imagesvc/store"
	"github.com/cowdisk/cowdisk/internal/imagesvc/store/storetest"
)

const chunkProp = "cowdisk_chunks_sha256"

// sparseImage is size bytes of zeros with data in the chunks named.
func sparseImage(size int, dataChunks ...int) []byte {
	b := make([]byte, size)
	for _, c := range dataChunks {
		off := c * chunkstest.ChunkSize
		copy(b[off:min(off+chunkstest.ChunkSize, size)], storetest.Data(chunkstest.ChunkSize, uint64(c)+1))
	}
	return b
}

// upload puts data as image id's file and fails t unless it is taken.
func (e *env) upload(t *testing.T, id string, data []byte) {
	t.Helper()
	if code, body, _ := e.do(t, "PUT", "/v2/images/"+id+"/file", tokAlice, "application/octet-stream",
		bytes.NewReader(data)); code != http.StatusNoContent {
		t.Fatalf("upload: %d %s", code, body)
	}
}

// checkChunks fails t unless image id's property and chunk list are the
// spec's for data.
func (e *env) checkChunks(t *testing.T, token, id string, data []byte) {
	t.Helper()
	img, err := e.cat.Get(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	code, body, h := e.do(t, "GET", "/v2/images/"+id+"/cowdisk-chunks", token, "", nil)
	if code != http.StatusOK || h.Get("Content-Type") != "application/json" {
		t.Fatalf("chunk list: %d %q %.300s", code, h.Get("Content-Type"), body)
	}
	chunkstest.Check(t, id, data, img.Properties[chunkProp], []byte(body))
	// The data spans go only to a node that asks (an older one decodes
	// strictly), and are the spec's.
	if strings.Contains(body, "data_spans") || strings.Contains(body, "span_unit") {
		t.Fatalf("spans sent unasked: %.300s", body)
	}
	code, body, _ = e.do(t, "GET", "/v2/images/"+id+"/cowdisk-chunks?spans=1", token, "", nil)
	var l chunks.List
	if err := json.Unmarshal([]byte(body), &l); code != http.StatusOK || err != nil {
		t.Fatalf("chunk list with spans: %d %v %.300s", code, err, body)
	}
	chunkstest.Check(t, id, data, img.Properties[chunkProp], []byte(body))
	if want := chunkstest.Spans(data); len(data) > 0 && (l.SpanUnit != 64<<10 || !slices.Equal(l.Spans, want)) {
		t.Fatalf("spans of %d bytes %v, want 65536 %v", l.SpanUnit, l.Spans, want)
	}
}

// TestChunkListUpload: every upload records the spec's list and binding,
// for sparse images (zero chunks carry the zero digest), sizes that are not
// a multiple of the chunk size, and empty images (no chunks; the binding
// covers the header alone).
func TestChunkListUpload(t *testing.T) {
	const c = chunkstest.ChunkSize
	zero := chunkstest.List(make([]byte, c))[0]
	for _, tc := range []struct {
		name  string
		data  []byte
		zeros []int
	}{
		{"sparse", sparseImage(4*c, 0, 2), []int{1, 3}},
		{"not a multiple", sparseImage(2*c+12345, 1, 2), []int{0}},
		{"smaller than a chunk", []byte("some bytes"), nil},
		{"empty", nil, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, nil)
			id := e.mkImage(t, tokAlice, images.CreateOpts{})
			e.upload(t, id, tc.data)
			e.checkChunks(t, tokAlice, id, tc.data)
			list := chunkstest.List(tc.data)
			for _, i := range tc.zeros {
				if list[i] != zero {
					t.Fatalf("chunk %d is not all zeros: the test image is wrong", i)
				}
			}
		})
	}
}

// TestChunkListImports: glance-direct and web-download record the list too.
func TestChunkListImports(t *testing.T) {
	data := sparseImage(2*chunkstest.ChunkSize+99, 0)
	e := newEnv(t, nil)
	e.withImport(t, "127.0.0.1")
	origin, _ := webOrigin(t, func(w http.ResponseWriter, _ *http.Request) { w.Write(data) })
	for _, method := range []string{"glance-direct", "web-download"} {
		id := e.mkImage(t, tokAlice, images.CreateOpts{})
		body := strings.NewReader(`{"method":{"name":"glance-direct"}}`)
		if method == "web-download" {
			body = strings.NewReader(`{"method":{"name":"web-download","uri":"` + origin.URL + `/img"}}`)
		} else if code, b, _ := e.do(t, "PUT", "/v2/images/"+id+"/stage", tokAlice, "application/octet-stream",
			bytes.NewReader(data)); code != http.StatusNoContent {
			t.Fatalf("stage: %d %s", code, b)
		}
		if code, b, _ := e.do(t, "POST", "/v2/images/"+id+"/import", tokAlice, "application/json", body); code != 202 {
			t.Fatalf("%s: %d %s", method, code, b)
		}
		if img := e.waitImport(t, id); img.Status != "active" {
			t.Fatalf("%s: %s", method, img.Status)
		}
		e.checkChunks(t, tokAlice, id, data)
	}
}

// TestChunkPropertyReadOnly: no caller, admin included, sets, changes or
// removes the binding; the refusal is Glance's 403 for read-only
// attributes and the property stays as the upload set it.
func TestChunkPropertyReadOnly(t *testing.T) {
	e := newEnv(t, nil)
	const create = `{"name":"x","disk_format":"raw","container_format":"bare","cowdisk_chunks_sha256":"00"}`
	for _, tok := range []string{tokAlice, tokAdmin} {
		if code, body, _ := e.do(t, "POST", "/v2/images", tok, "application/json", strings.NewReader(create)); code != 403 {
			t.Fatalf("create naming the property: %d %s", code, body)
		}
	}
	// The name in disguise is a reserved name, as every core field's is.
	disguised := strings.Replace(create, "cowdisk_chunks_sha256", "COWDISK_ＣＨＵＮＫＳ_sha256", 1)
	if code, body, _ := e.do(t, "POST", "/v2/images", tokAlice, "application/json", strings.NewReader(disguised)); code != 400 {
		t.Fatalf("create naming the property in disguise: %d %s", code, body)
	}
	queued := e.mkImage(t, tokAlice, images.CreateOpts{})
	id := e.mkImage(t, tokAlice, images.CreateOpts{})
	data := []byte("data")
	e.upload(t, id, data)
	for _, tc := range []struct{ id, tok, patch string }{
		{queued, tokAlice, `[{"op":"add","path":"/cowdisk_chunks_sha256","value":"00"}]`},
		{id, tokAlice, `[{"op":"add","path":"/cowdisk_chunks_sha256","value":"00"}]`},
		{id, tokAlice, `[{"op":"replace","path":"/cowdisk_chunks_sha256","value":"00"}]`},
		{id, tokAlice, `[{"op":"remove","path":"/cowdisk_chunks_sha256"}]`},
		{id, tokAdmin, `[{"op":"replace","path":"/cowdisk_chunks_sha256","value":"00"}]`},
		{id, tokAdmin, `[{"op":"remove","path":"/cowdisk_chunks_sha256"}]`},
	} {
		code, body, _ := e.do(t, "PATCH", "/v2/images/"+tc.id, tc.tok, patchMediaType, strings.NewReader(tc.patch))
		if code != http.StatusForbidden || !contains(body, "read-only") {
			t.Fatalf("%s: %d %s", tc.patch, code, body)
		}
	}
	if img, _ := e.cat.Get(context.Background(), queued); img.Properties[chunkProp] != "" {
		t.Fatalf("queued image got the property: %v", img.Properties)
	}
	e.checkChunks(t, tokAlice, id, data)
}

// TestChunkListAccess: the list is served exactly where the data is:
// another project's private image is 404, a deactivated image is 403 but
// to admins, a queued image and an image whose store hashed without a
// list (as data from a location, or uploaded before lists) are 404.
func TestChunkListAccess(t *testing.T) {
	e := newEnv(t, nil)
	data := sparseImage(chunkstest.ChunkSize+1, 1)
	id := e.mkImage(t, tokAlice, images.CreateOpts{})
	queued := e.mkImage(t, tokAlice, images.CreateOpts{})
	e.upload(t, id, data)
	path := "/v2/images/" + id + "/cowdisk-chunks"
	for _, tc := range []struct {
		name, id, tok string
		code, file    int // the list's answer, and the data's
	}{
		{"other project, private image", id, tokBob, 404, 404},
		{"no token", id, "", 401, 401},
		{"queued image", queued, tokAlice, 404, 204},
		{"unknown image", "00000000-0000-4000-8000-000000000000", tokAlice, 404, 404},
	} {
		code, _, _ := e.do(t, "GET", "/v2/images/"+tc.id+"/cowdisk-chunks", tc.tok, "", nil)
		file, _, _ := e.do(t, "GET", "/v2/images/"+tc.id+"/file", tc.tok, "", nil)
		if code != tc.code || file != tc.file {
			t.Fatalf("%s: list %d, file %d; want %d, %d", tc.name, code, file, tc.code, tc.file)
		}
	}
	for _, tok := range []string{tokReader, tokSvc, tokAdmin} {
		e.checkChunks(t, tok, id, data)
	}
	if code, body, _ := e.do(t, "POST", "/v2/images/"+id+"/actions/deactivate", tokAlice, "", nil); code != 204 {
		t.Fatalf("deactivate: %d %s", code, body)
	}
	if code, _, _ := e.do(t, "GET", path, tokAlice, "", nil); code != http.StatusForbidden {
		t.Fatalf("deactivated, owner: %d", code)
	}
	e.checkChunks(t, tokAdmin, id, data)

	noList := newEnv(t, func(s store.Store) store.Store { return selfHashed{s} })
	id = noList.mkImage(t, tokAlice, images.CreateOpts{})
	noList.upload(t, id, data)
	code, body, _ := noList.do(t, "GET", "/v2/images/"+id+"/cowdisk-chunks", tokAlice, "", nil)
	if img, _ := noList.cat.Get(context.Background(), id); code != 404 || !contains(body, "no chunk list") ||
		img.Properties[chunkProp] != "" || img.Status != "active" {
		t.Fatalf("image without a list: %d %s %v", code, body, img.Properties)
	}
}

// TestChunkListDeleted: deleting the image deletes its list.
func TestChunkListDeleted(t *testing.T) {
	e := newEnv(t, nil)
	id := e.mkImage(t, tokAlice, images.CreateOpts{})
	e.upload(t, id, []byte("data"))
	if _, err := e.cat.Chunks(context.Background(), id); err != nil {
		t.Fatalf("no list after upload: %v", err)
	}
	if code, body, _ := e.do(t, "DELETE", "/v2/images/"+id, tokAlice, "", nil); code != 204 {
		t.Fatalf("delete: %d %s", code, body)
	}
	if _, err := e.cat.Chunks(context.Background(), id); !errors.Is(err, errs.ErrNotFound) {
		t.Fatalf("list after delete: %v", err)
	}
	if code, _, _ := e.do(t, "GET", "/v2/images/"+id+"/cowdisk-chunks", tokAlice, "", nil); code != 404 {
		t.Fatalf("endpoint after delete: %d", code)
	}
}

func TestSingleRange(t *testing.T) {
	for _, tc := range []struct {
		h      string
		lo, hi int64
		ok     bool
	}{
		{"bytes=0-9", 0, 10, true},
		{"bytes=40-59", 40, 60, true},
		{"bytes=90-200", 90, 100, true},
		{"bytes=5-", 5, 100, true},
		{"bytes=-10", 90, 100, true},
		{"bytes=-1000", 0, 100, true},
		{"bytes=100-", 0, 0, false},
		{"bytes=9-5", 0, 0, false},
		{"bytes=0-1,5-6", 0, 0, false},
		{"bytes=-0", 0, 0, false},
		{"bytes=a-b", 0, 0, false},
		{"items=0-9", 0, 0, false},
		{"", 0, 0, false},
	} {
		lo, hi, ok := singleRange(tc.h, 100)
		if lo != tc.lo || hi != tc.hi || ok != tc.ok {
			t.Errorf("%q: %d %d %v, want %d %d %v", tc.h, lo, hi, ok, tc.lo, tc.hi, tc.ok)
		}
	}
}
