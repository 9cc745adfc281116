package api

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/cowdisk/cowdisk/internal/imagesvc/catalog"
)

// withLimits sets the server's limits (zero fields: defaults).
func (e *env) withLimits(l Limits) *env {
	e.api.cfg.Limits = l.withDefaults()
	return e
}

func props(n, valueLen int) string {
	var b strings.Builder
	for i := range n {
		fmt.Fprintf(&b, `,"p%d":%q`, i, strings.Repeat("v", valueLen))
	}
	return b.String()
}

// TestPropertyBounds: each bound exceeded on create or patch is a clear
// 4xx, creates nothing and changes nothing.
func TestPropertyBounds(t *testing.T) {
	e := newEnv(t, nil).withLimits(Limits{MaxProperties: 4, MaxTags: 3, MaxKeyLen: 20, MaxValueLen: 100})
	img := e.post(t, tokAlice, `{"name":"full"`+props(4, 100)+`,"tags":["a","b","c"]}`)
	id := img["id"].(string)
	before, _ := e.cat.Get(t.Context(), id)
	for _, tc := range []struct {
		name, method, body string
		code               int
		msg                string
	}{
		{"create: property quota", "POST", `{"name":"x"` + props(5, 1) + `}`, 413, "image_property_quota"},
		{"create: tag quota", "POST", `{"name":"x","tags":["1","2","3","4"]}`, 413, "image_tag_quota"},
		{"create: body full of tags", "POST", `{"name":"x","tags":[` + manyTags(90_000) + `]}`, 413, "image_tag_quota"},
		{"create: key size", "POST", `{"name":"x","` + strings.Repeat("k", 21) + `":"v"}`, 400, "limit is 20"},
		{"create: value size", "POST", `{"name":"x","k":"` + strings.Repeat("v", 101) + `"}`, 400, "limit is 100"},
		{"create: long s disk_format", "POST", `{"name":"x","diſk_format":"raw"}`, 400, `core field "disk_format"`},
		{"create: long s size", "POST", `{"name":"x","ſize":"1"}`, 400, `core field "size"`},
		{"create: upper case", "POST", `{"name":"x","Status":"active"}`, 400, `core field "status"`},
		{"create: full width", "POST", `{"name":"x","ｏｓ_ｈｉｄｄｅｎ":"true"}`, 400, `core field "os_hidden"`},
		{"create: Kelvin sign", "POST", `{"name":"x","chec\u212asum":"1"}`, 400, `core field "checksum"`},
		{"create: reserved namespace", "POST", `{"name":"x","OS_GLANCE_import":"1"}`, 403, "reserved"},
		{"create: invalid UTF-8", "POST", "{\"name\":\"x\xff\"}", 400, "UTF-8"},
		{"create: invalid UTF-8 key", "POST", "{\"k\xc3\":\"v\"}", 400, "UTF-8"},
		{"create: lone surrogate", "POST", `{"name":"\ud800x"}`, 400, "surrogate"},
		{"create: lone low surrogate", "POST", `{"name":"\udc00"}`, 400, "surrogate"},
		{"create: swapped pair", "POST", `{"name":"\ude00\ud83d"}`, 400, "surrogate"},
		{"patch: property quota", "PATCH", `[{"op":"add","path":"/p9","value":"v"}]`, 413, "image_property_quota"},
		{"patch: tag quota", "PATCH", `[{"op":"replace","path":"/tags","value":["1","2","3","4"]}]`, 413, "image_tag_quota"},
		{"patch: value size", "PATCH", `[{"op":"replace","path":"/p0","value":"` + strings.Repeat("v", 101) + `"}]`, 400, "limit is 100"},
		{"patch: long s", "PATCH", `[{"op":"remove","path":"/p0"},{"op":"add","path":"/diſk_format","value":"raw"}]`, 400, "core field"},
		{"patch: invalid UTF-8", "PATCH", "[{\"op\":\"replace\",\"path\":\"/p0\",\"value\":\"\xfe\"}]", 400, "UTF-8"},
		{"patch: lone surrogate", "PATCH", `[{"op":"replace","path":"/p0","value":"\udbff"}]`, 400, "surrogate"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			n := e.imageCount(t)
			path, ctype := "/v2/images", "application/json"
			if tc.method == "PATCH" {
				path, ctype = "/v2/images/"+id, patchMediaType
			}
			code, out, _ := e.do(t, tc.method, path, tokAlice, ctype, strings.NewReader(tc.body))
			if code != tc.code || !strings.Contains(out, tc.msg) {
				t.Fatalf("got %d %s, want %d mentioning %q", code, out, tc.code, tc.msg)
			}
			if e.imageCount(t) != n {
				t.Fatal("a refused create left an image")
			}
			after, _ := e.cat.Get(t.Context(), id)
			if !sameProps(after.Properties, before.Properties) || !slices.Equal(after.Tags, before.Tags) {
				t.Fatalf("a refused patch changed the image: %v %v", after.Properties, after.Tags)
			}
		})
	}
	// A valid surrogate pair and ordinary non-ASCII keys are fine.
	ok := e.post(t, tokAlice, `{"name":"\ud83d\ude00","größe":"1","ключ":"v"}`)
	if ok["name"] != "😀" || ok["größe"] != "1" {
		t.Fatalf("valid Unicode refused or changed: %v", ok)
	}
	// Removing from an image over a quota lowered since is allowed.
	e.withLimits(Limits{MaxProperties: 2, MaxTags: 3, MaxKeyLen: 20, MaxValueLen: 100})
	if code, out, _ := e.do(t, "PATCH", "/v2/images/"+id, tokAlice, patchMediaType,
		strings.NewReader(`[{"op":"remove","path":"/p0"}]`)); code != 200 {
		t.Fatalf("trimming an image over a lowered quota: %d %s", code, out)
	}
}

func manyTags(n int) string {
	tags := make([]string, n)
	for i := range tags {
		tags[i] = fmt.Sprintf(`"%d"`, i)
	}
	return strings.Join(tags, ",")
}

func sameProps(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}

// TestStorageQuota: uploads past the project's quota are 413 whether the
// size is declared or the body is chunked, leave no data and leave the
// image queued; deleting frees the room; other projects are not affected.
func TestStorageQuota(t *testing.T) {
	e := newEnv(t, nil).withLimits(Limits{UserStorageQuota: 10_000})
	mk := func(tok string) string {
		return e.post(t, tok, `{"name":"q","disk_format":"raw","container_format":"bare"}`)["id"].(string)
	}
	first, second := mk(tokAlice), mk(tokAlice)
	e.put(t, first, make([]byte, 6000))
	stored := e.storedFiles(t)
	for _, tc := range []struct {
		name    string
		chunked bool
		size    int
	}{{"declared", false, 6000}, {"chunked", true, 6000}, {"declared just over", false, 4001}, {"chunked just over", true, 4001}} {
		t.Run(tc.name, func(t *testing.T) {
			body := bytes.NewReader(make([]byte, tc.size))
			var code int
			var out string
			if tc.chunked {
				code, out, _ = e.do(t, "PUT", "/v2/images/"+second+"/file", tokAlice, "application/octet-stream", stream(make([]byte, tc.size)))
			} else {
				code, out, _ = e.do(t, "PUT", "/v2/images/"+second+"/file", tokAlice, "application/octet-stream", body)
			}
			if code != http.StatusRequestEntityTooLarge || !strings.Contains(out, "storage quota of 10000 bytes") {
				t.Fatalf("got %d %s", code, out)
			}
			if got := e.storedFiles(t); !slices.Equal(got, stored) {
				t.Fatalf("files %v after a refused upload, want %v", got, stored)
			}
			if img, _ := e.cat.Get(t.Context(), second); img.Status != catalog.StatusQueued || img.Size != nil {
				t.Fatalf("image after a refused upload: %s %v", img.Status, img.Size)
			}
		})
	}
	e.put(t, second, make([]byte, 4000)) // exactly the rest fits
	if code, _, _ := e.do(t, "DELETE", "/v2/images/"+first, tokAlice, "", nil); code != 204 {
		t.Fatal("delete failed")
	}
	if code, out, _ := e.do(t, "PUT", "/v2/images/"+mk(tokAlice)+"/file", tokAlice, "application/octet-stream",
		stream(make([]byte, 6000))); code != 204 {
		t.Fatalf("chunked upload into the freed room: %d %s", code, out)
	}
	// Another project's quota is its own.
	if code, out, _ := e.do(t, "PUT", "/v2/images/"+mk(tokBob)+"/file", tokBob, "application/octet-stream",
		bytes.NewReader(make([]byte, 9000))); code != 204 {
		t.Fatalf("upload of another project: %d %s", code, out)
	}
	if n := len(e.api.quota.inflight); n != 0 {
		t.Fatalf("reservations left after the uploads: %v", e.api.quota.inflight)
	}
}

// TestListMemoryBounded lists images whose properties are far larger than
// the page byte budget: each page stays within the budget plus one image,
// the walk still returns every image, and the memory allocated to answer
// one page with limit=1000 is bounded by the budget, not by the images
// that match (runtime.MemStats.TotalAlloc, which bounds the peak too).
func TestListMemoryBounded(t *testing.T) {
	const (
		n        = 60
		perImage = 8 * 64 << 10 // 8 properties of 64 KiB: 30 MiB in all
		budget   = 1 << 20
	)
	e := newEnv(t, nil).withLimits(Limits{MaxPageBytes: budget})
	value := strings.Repeat("é", 32<<10) // 64 KiB, escaped by nothing
	for i := range n {
		img := catalog.Image{ID: fmt.Sprintf("00000000-0000-4000-8000-%012d", i), Status: catalog.StatusQueued,
			Owner: "p1", Visibility: catalog.Private, Properties: map[string]string{},
			CreatedAt: time.Unix(int64(i), 0), UpdatedAt: time.Unix(0, 0)}
		for p := range 8 {
			img.Properties[fmt.Sprintf("p%d", p)] = value
		}
		if err := e.cat.Create(t.Context(), img); err != nil {
			t.Fatal(err)
		}
	}
	var ms runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&ms)
	allocBefore := ms.TotalAlloc
	code, out, _ := e.do(t, "GET", "/v2/images?limit=1000", tokAlice, "", nil)
	runtime.ReadMemStats(&ms)
	allocated := ms.TotalAlloc - allocBefore
	if code != 200 {
		t.Fatalf("list: %d", code)
	}
	// Records are read until they hold the budget: at most budget + one image.
	maxBody := int64(budget + perImage + 8<<10)
	if int64(len(out)) > maxBody {
		t.Fatalf("page of %d bytes, bound %d", len(out), maxBody)
	}
	// Reading, decoding, encoding and the client's copy each hold the
	// page at most a few times over; listing all 60 would be >= 30 MiB
	// per copy.
	if bound := uint64(12 * maxBody); allocated > bound {
		t.Fatalf("one list request allocated %d bytes, bound %d (all images: %d)", allocated, bound, n*perImage)
	}
	t.Logf("page %d bytes, allocated %d bytes for the request; all images hold %d", len(out), allocated, n*perImage)
	seen := 0
	for path := "/v2/images?limit=1000"; path != ""; {
		var p listPage
		_, body, _ := e.do(t, "GET", path, tokAlice, "", nil)
		if err := json.Unmarshal([]byte(body), &p); err != nil {
			t.Fatal(err)
		}
		if int64(len(body)) > maxBody {
			t.Fatalf("page of %d bytes", len(body))
		}
		seen += len(p.Images)
		path = p.Next
	}
	if seen != n {
		t.Fatalf("walk saw %d images, want %d", seen, n)
	}
}

// TestStorageQuotaConcurrent: uploads that each fit but not together are
// never both stored, however they interleave: in-flight bytes count.
func TestStorageQuotaConcurrent(t *testing.T) {
	for _, chunked := range []bool{false, true} {
		e := newEnv(t, nil).withLimits(Limits{UserStorageQuota: 10_000})
		codes := make(chan int, 4)
		for range 4 {
			id := e.post(t, tokAlice, `{"name":"c","disk_format":"raw","container_format":"bare"}`)["id"].(string)
			go func() {
				var body io.Reader = bytes.NewReader(make([]byte, 6000))
				if chunked {
					body = stream(make([]byte, 6000))
				}
				req, _ := http.NewRequest("PUT", e.srv.URL+"/v2/images/"+id+"/file", body)
				req.Header.Set("X-Auth-Token", tokAlice)
				req.Header.Set("Content-Type", "application/octet-stream")
				resp, err := e.srv.Client().Do(req)
				if err != nil {
					codes <- 0
					return
				}
				resp.Body.Close()
				codes <- resp.StatusCode
			}()
		}
		var got []int
		for range 4 {
			got = append(got, <-codes)
		}
		slices.Sort(got)
		if !slices.Equal(got, []int{204, 413, 413, 413}) {
			t.Fatalf("chunked %v: statuses %v, want one 204 and three 413", chunked, got)
		}
		if used, _ := e.cat.Usage(t.Context(), "p1"); used != 6000 {
			t.Fatalf("chunked %v: %d bytes stored, want 6000", chunked, used)
		}
		if files := e.storedFiles(t); len(files) != 1 {
			t.Fatalf("chunked %v: files %v, want the one upload", chunked, files)
		}
	}
}
