package api

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/gophercloud/gophercloud/v2/openstack/image/v2/images"

	"github.com/cowdisk/cowdisk/internal/imagesvc/catalog"
)

// qcow2Head is the start of a qcow2 v3 image of 1 GiB with 64 KiB clusters:
// enough for the inspector to recognise it.
func qcow2Head() []byte {
	b := make([]byte, 1<<20)
	copy(b, "QFI\xfb")
	binary.BigEndian.PutUint32(b[4:], 3)      // version
	binary.BigEndian.PutUint32(b[20:], 16)    // cluster_bits
	binary.BigEndian.PutUint64(b[24:], 1<<30) // size
	binary.BigEndian.PutUint32(b[36:], 16)    // l1_size
	binary.BigEndian.PutUint64(b[40:], 3<<16) // l1_table_offset
	binary.BigEndian.PutUint64(b[48:], 1<<16) // refcount_table_offset
	binary.BigEndian.PutUint32(b[56:], 1)     // refcount_table_clusters
	binary.BigEndian.PutUint32(b[96:], 4)     // refcount_order
	binary.BigEndian.PutUint32(b[100:], 104)  // header_length
	return b
}

// TestBadInput sends malformed or refused requests; each must get a clear
// 4xx with a message and leave no stored data and no state change behind.
func TestBadInput(t *testing.T) {
	e := newEnv(t, nil)
	queued := e.mkImage(t, tokAlice, images.CreateOpts{})
	_, created, _ := e.do(t, "POST", "/v2/images", tokAlice, "application/json", strings.NewReader(`{"name":"nf"}`))
	var nf struct{ ID string }
	json.Unmarshal([]byte(created), &nf)
	noFormat := nf.ID
	deleted := e.mkImage(t, tokAlice, images.CreateOpts{})
	if code, _, _ := e.do(t, "DELETE", "/v2/images/"+deleted, tokAlice, "", nil); code != http.StatusNoContent {
		t.Fatal("delete failed")
	}
	img := "/v2/images/" + queued
	file := img + "/file"
	oct := "application/octet-stream"
	big := io.LimitReader(zeros{}, 65<<20)
	for _, tc := range []struct {
		name, method, path, ctype string
		body                      io.Reader
		hdr                       []string
		code                      int
		msg                       string
	}{
		{"unknown non-string field", "POST", "/v2/images", "application/json", strings.NewReader(`{"name":"x","foo":1}`), nil, 400, "unknown field"},
		{"bad JSON", "POST", "/v2/images", "application/json", strings.NewReader(`{"name":`), nil, 400, "JSON object"},
		{"JSON array", "POST", "/v2/images", "application/json", strings.NewReader(`[]`), nil, 400, "JSON object"},
		{"trailing JSON", "POST", "/v2/images", "application/json", strings.NewReader(`{}{}`), nil, 400, "trailing"},
		{"bad UUID", "POST", "/v2/images", "application/json", strings.NewReader(`{"id":"not-a-uuid"}`), nil, 400, "UUID"},
		{"upper-case UUID", "POST", "/v2/images", "application/json", strings.NewReader(`{"id":"0F0E0D0C-0B0A-4908-8706-050403020100"}`), nil, 400, "UUID"},
		{"taken id", "POST", "/v2/images", "application/json", strings.NewReader(`{"id":"` + deleted + `"}`), nil, 409, "exists"},
		{"unknown disk_format", "POST", "/v2/images", "application/json", strings.NewReader(`{"disk_format":"qcow3"}`), nil, 400, "disk_format"},
		{"negative min_disk", "POST", "/v2/images", "application/json", strings.NewReader(`{"min_disk":-1}`), nil, 400, "negative"},
		{"read-only status", "POST", "/v2/images", "application/json", strings.NewReader(`{"status":"active"}`), nil, 403, "read-only"},
		{"location on create", "POST", "/v2/images", "application/json", strings.NewReader(`{"locations":[{"url":"rbd://a/b/c/d"}]}`), nil, 403, "read-only"},
		{"bad UUID in path", "GET", "/v2/images/zzz", "", nil, nil, 404, "not found"},
		{"PATCH media type", "PATCH", img, "application/json", strings.NewReader(`[]`), nil, 415, "Content-Type"},
		{"PATCH bad op", "PATCH", img, patchMediaType, strings.NewReader(`[{"op":"move","path":"/name"}]`), nil, 400, "op"},
		{"PATCH unknown key", "PATCH", img, patchMediaType, strings.NewReader(`[{"op":"add","path":"/x","value":"1","from":"/y"}]`), nil, 400, "unknown field"},
		{"PATCH nested path", "PATCH", img, patchMediaType, strings.NewReader(`[{"op":"add","path":"/tags/0","value":"a"}]`), nil, 400, "one attribute"},
		{"PATCH replace missing property", "PATCH", img, patchMediaType, strings.NewReader(`[{"op":"replace","path":"/nope","value":"a"}]`), nil, 409, "does not exist"},
		{"PATCH remove core", "PATCH", img, patchMediaType, strings.NewReader(`[{"op":"remove","path":"/name"}]`), nil, 403, "cannot be removed"},
		{"PATCH status", "PATCH", img, patchMediaType, strings.NewReader(`[{"op":"replace","path":"/status","value":"active"}]`), nil, 403, "read-only"},
		{"list bad os_hidden", "GET", "/v2/images?os_hidden=maybe", "", nil, nil, 400, "os_hidden"},
		{"list bad limit", "GET", "/v2/images?limit=-3", "", nil, nil, 400, "limit"},
		{"list bad marker", "GET", "/v2/images?marker=0f0e0d0c-0b0a-4908-8706-050403020100", "", nil, nil, 400, "marker"},
		{"list bad sort key", "GET", "/v2/images?sort_key=checksum", "", nil, nil, 400, "sort key"},
		{"upload content type", "PUT", file, "text/plain", strings.NewReader("x"), nil, 415, "octet-stream"},
		{"upload to deleted image", "PUT", "/v2/images/" + deleted + "/file", oct, strings.NewReader("x"), nil, 404, "not found"},
		{"upload without disk_format", "PUT", "/v2/images/" + noFormat + "/file", oct, strings.NewReader("x"), nil, 400, "disk_format"},
		{"oversize declared", "PUT", file, oct, onlyReader{strings.NewReader("x")}, []string{"X-Openstack-Image-Size", "1099511627776"}, 413, "limit"},
		{"declared sizes disagree", "PUT", file, oct, strings.NewReader("abc"), []string{"X-Openstack-Image-Size", "4"}, 400, "differs"},
		{"short body", "PUT", file, oct, onlyReader{strings.NewReader("abc")}, []string{"X-Openstack-Image-Size", "100"}, 400, "declared"},
		{"long body", "PUT", file, oct, onlyReader{strings.NewReader("abcdef")}, []string{"X-Openstack-Image-Size", "3"}, 400, "declared"},
		{"oversize chunked", "PUT", file, oct, onlyReader{big}, nil, 413, "limit"},
		{"qcow2 uploaded as raw", "PUT", file, oct, bytes.NewReader(qcow2Head()), nil, 400, "qcow2"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := e.count(t)
			code, body, _ := e.do(t, tc.method, tc.path, tokAlice, tc.ctype, tc.body, tc.hdr...)
			if code != tc.code || !strings.Contains(strings.ToLower(body), strings.ToLower(tc.msg)) {
				t.Fatalf("got %d %s; want %d mentioning %q", code, body, tc.code, tc.msg)
			}
			if f := e.storedFiles(t); len(f) != 0 {
				t.Fatalf("stored: %v", f)
			}
			if after := e.count(t); after != before {
				t.Fatalf("images %d -> %d", before, after)
			}
			got, err := e.cat.Get(context.Background(), queued)
			if err != nil || got.Status != catalog.StatusQueued || got.Name == nil || *got.Name != "img" {
				t.Fatalf("image changed: %+v %v", got, err)
			}
		})
	}
}

func (e *env) count(t *testing.T) int {
	imgs, err := e.cat.List(context.Background(), catalog.Filter{Admin: true, Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	return len(imgs)
}

type zeros struct{}

func (zeros) Read(p []byte) (int, error) { clear(p); return len(p), nil }
