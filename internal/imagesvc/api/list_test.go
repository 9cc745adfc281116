package api

import (
	"bytes"
	"crypto/md5"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/cowdisk/cowdisk/internal/imagesvc/catalog"
)

// listPage is the part of a list answer the tests read.
type listPage struct {
	Images []map[string]any `json:"images"`
	Next   string           `json:"next"`
	First  string           `json:"first"`
}

// post creates an image from a JSON body and returns its view.
func (e *env) post(t *testing.T, token, body string) map[string]any {
	t.Helper()
	code, out, _ := e.do(t, "POST", "/v2/images", token, "application/json", strings.NewReader(body))
	if code != 201 {
		t.Fatalf("create %s: %d %s", body, code, out)
	}
	var v map[string]any
	json.Unmarshal([]byte(out), &v)
	return v
}

// put uploads data to an image.
func (e *env) put(t *testing.T, id string, data []byte) {
	t.Helper()
	if code, out, _ := e.do(t, "PUT", "/v2/images/"+id+"/file", tokAlice, "application/octet-stream",
		bytes.NewReader(data)); code != 204 {
		t.Fatalf("upload: %d %s", code, out)
	}
}

// names lists path as token and returns the names in answer order.
func (e *env) names(t *testing.T, token, path string) (int, []string, listPage) {
	t.Helper()
	code, out, _ := e.do(t, "GET", path, token, "", nil)
	var p listPage
	if code == 200 {
		if err := json.Unmarshal([]byte(out), &p); err != nil {
			t.Fatalf("%s: %v: %s", path, err, out)
		}
	}
	var names []string
	for _, img := range p.Images {
		names = append(names, fmt.Sprint(img["name"]))
	}
	return code, names, p
}

// TestListQuery sends every list parameter Glance accepts, and bad values
// of them, against a fixed set of images.
func TestListQuery(t *testing.T) {
	e := newEnv(t, nil)
	ids := map[string]string{}
	for _, b := range []string{
		`{"name":"a","disk_format":"raw","container_format":"bare","os_distro":"debian","tags":["x","y"]}`,
		`{"name":"b","disk_format":"qcow2","container_format":"bare","os_distro":"ubuntu","tags":["x"],"protected":true}`,
		`{"name":"c,d","disk_format":"iso","container_format":"ovf","os_distro":"debian","arch":"arm"}`,
		`{"name":"e:f","disk_format":"raw","container_format":"bare","visibility":"private"}`,
		`{"name":"hid","disk_format":"raw","container_format":"bare","os_hidden":true,"os_distro":"debian"}`,
		`{"name":"com","disk_format":"raw","container_format":"bare","visibility":"community"}`,
	} {
		tok := tokAlice
		if strings.Contains(b, "community") { // another project's: listed only on request
			tok = tokBob
		}
		v := e.post(t, tok, b)
		ids[v["name"].(string)] = v["id"].(string)
		// Distinct created_at seconds (the precision shown and compared).
		created := time.Date(2026, 1, 1, 0, 0, len(ids), 0, time.UTC)
		if _, err := e.cat.Update(t.Context(), v["id"].(string), func(i *catalog.Image) error {
			i.CreatedAt = created
			return nil
		}); err != nil {
			t.Fatal(err)
		}
	}
	e.put(t, ids["a"], make([]byte, 1000))
	e.put(t, ids["b"], qcow2Head())
	e.put(t, ids["e:f"], make([]byte, 5000))
	sum := md5.Sum(make([]byte, 1000))
	img, _ := e.cat.Get(t.Context(), ids["a"])
	bImg, _ := e.cat.Get(t.Context(), ids["b"])
	cAt := bImg.CreatedAt.Format(glanceTime)
	for _, tc := range []struct {
		query string
		want  string // names, sorted unless the query sorts
		code  int
	}{
		{"", "a b c,d e:f", 200},
		{"os_hidden=true", "hid", 200},
		{"os_hidden=True", "hid", 200},
		{"os_hidden=false", "a b c,d e:f", 200},
		{"visibility=all", "a b c,d com e:f", 200},
		{"visibility=community", "com", 200},
		{"visibility=private", "e:f", 200},
		{"member_status=all", "a b c,d e:f", 200},
		{"name=b", "b", 200},
		{"name=e:f", "e:f", 200},
		{"name=in:a,b,zz", "a b", 200},
		{`name=in:"c,d",a`, "a c,d", 200},
		{"id=in:" + ids["a"] + "," + ids["c,d"], "a c,d", 200},
		{"id=" + ids["b"], "b", 200},
		{"status=active", "a b e:f", 200},
		{"status=in:queued", "c,d", 200},
		{"disk_format=in:qcow2,iso", "b c,d", 200},
		{"container_format=ovf", "c,d", 200},
		{"container_format=in:ovf,bare&disk_format=raw", "a e:f", 200},
		{"checksum=" + hex.EncodeToString(sum[:]), "a", 200},
		{"os_hash_value=" + *img.OSHashValue, "a", 200},
		{"os_hash_algo=sha512", "a b e:f", 200},
		{"os_distro=debian", "a c,d", 200},
		{"os_distro=debian&arch=arm", "c,d", 200},
		{"os_distro=debian&os_hidden=true", "hid", 200},
		{"nonexistent_property=1", "", 200},
		{"tag=x", "a b", 200},
		{"tag=x&tag=y", "a", 200},
		{"protected=true", "b", 200},
		{"size_min=1000", "a b e:f", 200},
		{"size_min=1001&size_max=6000", "e:f", 200},
		{"size_max=1000", "a", 200},
		{"size=5000", "e:f", 200},
		{"virtual_size_min=1073741824", "b", 200},
		{"min_disk=0&owner=p1", "a b c,d e:f", 200},
		{"created_at=" + cAt, "b", 200},
		{"created_at=eq:" + cAt, "b", 200},
		{"created_at=gt:" + cAt, "c,d e:f", 200},
		{"created_at=gte:" + cAt, "b c,d e:f", 200},
		{"created_at=lt:" + cAt, "a", 200},
		{"created_at=lte:" + cAt, "a b", 200},
		{"created_at=neq:" + cAt, "a c,d e:f", 200},
		{"updated_at=gte:2000-01-01", "a b c,d e:f", 200},
		{"updated_at=lt:2000-01-01T00:00", "", 200},
		{"sort=name:asc", "a b c,d e:f", 200},
		{"sort=disk_format:asc,name:desc", "c,d b e:f a", 200},
		{"sort=disk_format,name:asc", "a e:f b c,d", 200},
		{"sort_key=disk_format&sort_key=name&sort_dir=asc&sort_dir=desc", "c,d b e:f a", 200},
		{"sort_key=disk_format&sort_key=name&sort_dir=asc", "c,d b a e:f", 200},
		{"sort_key=created_at&sort_dir=asc", "a b c,d e:f", 200},
		{"sort_dir=asc", "a b c,d e:f", 200},
		{"sort_key=size&sort_key=name", "b e:f a c,d", 200},
		{"limit=0", "", 200},
		{"limit=1&sort=name:asc", "a", 200},
		// Bad values: 400 naming the parameter.
		{"os_hidden=maybe", "os_hidden", 400},
		{"protected=yes", "protected", 400},
		{"visibility=secret", "visibility", 400},
		{"member_status=maybe", "member_status", 400},
		{"limit=-1", "limit", 400},
		{"limit=ten", "limit", 400},
		{"marker=nope", "marker", 400},
		{"marker=0f0e0d0c-0b0a-4908-8706-050403020100", "marker", 400},
		{"size_min=big", "size_min", 400},
		{"virtual_size_max=1.5", "virtual_size_max", 400},
		{"size=1k", "size", 400},
		{"min_ram=lots", "min_ram", 400},
		{"created_at=gt:yesterday", "created_at", 400},
		{"created_at=after:2026-01-01", "operator", 400},
		{"updated_at=2026-13-45", "updated_at", 400},
		{`name=in:"a,b`, "quotes", 400},
		{`name=in:"a"b`, "comma", 400},
		{"changes-since=2026-01-01", "changes-since", 400},
		{"sort=name:up", "sort direction", 400},
		{"sort=checksum", "sort key", 400},
		{"sort=name&sort_key=size", "sort", 400},
		{"sort_key=name&sort_key=size&sort_key=id&sort_dir=asc&sort_dir=desc", "sort_dir", 400},
		{"name=a&name=b", "name given 2 times", 400},
		{"os_distro=a&os_distro=b", "os_distro given 2 times", 400},
		{"name=%ff", "UTF-8", 400},
		{"%fe%ff=x", "UTF-8", 400},
		{"name=%zz", "query string", 400},
		{"name=a;b", "query string", 400},
		{"name=" + strings.Repeat("a", maxQueryLen), "query string", 400},
		{"name=in:" + strings.Repeat("a,", maxInValues+1), "in: list", 400},
	} {
		t.Run(tc.query, func(t *testing.T) {
			code, got, _ := e.names(t, tokAlice, "/v2/images?"+tc.query)
			if code != tc.code {
				t.Fatalf("status %d, want %d", code, tc.code)
			}
			if code != 200 {
				_, out, _ := e.do(t, "GET", "/v2/images?"+tc.query, tokAlice, "", nil)
				if !strings.Contains(out, tc.want) {
					t.Fatalf("error %s does not mention %q", out, tc.want)
				}
				return
			}
			if !strings.Contains(tc.query, "sort") {
				slices.Sort(got)
			}
			if g := strings.Join(got, " "); g != tc.want {
				t.Fatalf("got %q, want %q", g, tc.want)
			}
		})
	}
}

// TestListPagingKeepsFilters follows next links: every page keeps the
// filters and the two-key sort, and the walk returns exactly the matching
// images in order, however the page size divides them.
func TestListPagingKeepsFilters(t *testing.T) {
	e := newEnv(t, nil)
	var want []string
	for i := range 9 {
		prop := `"k":"v",`
		if i%3 == 2 {
			prop = `"k":"other",`
		}
		name := fmt.Sprintf("n%d", i%4) // repeated names: the second key decides
		e.post(t, tokAlice, `{`+prop+`"name":"`+name+`","disk_format":"raw","container_format":"bare"}`)
		if i%3 != 2 {
			want = append(want, name)
		}
	}
	hidden := e.post(t, tokAlice, `{"k":"v","name":"n0","os_hidden":true}`)
	slices.Sort(want)
	for limit := 1; limit <= 7; limit++ {
		path := fmt.Sprintf("/v2/images?k=v&sort=name:asc,created_at:desc&limit=%d", limit)
		var got []string
		for pages := 0; path != ""; pages++ {
			if pages > 10 {
				t.Fatal("too many pages")
			}
			code, names, p := e.names(t, tokAlice, path)
			if code != 200 {
				t.Fatalf("%s: %d", path, code)
			}
			for _, img := range p.Images {
				if img["id"] == hidden["id"] {
					t.Fatal("hidden image listed without os_hidden=true")
				}
			}
			got = append(got, names...)
			if p.Next != "" {
				u, _ := url.Parse(p.Next)
				q := u.Query()
				if q.Get("k") != "v" || q.Get("sort") != "name:asc,created_at:desc" || q.Get("marker") == "" {
					t.Fatalf("next link lost the query: %s", p.Next)
				}
			}
			path = p.Next
		}
		if g, w := strings.Join(got, " "), strings.Join(want, " "); g != w {
			t.Fatalf("limit %d: walked %q, want %q", limit, g, w)
		}
	}
}

// TestOSHidden: os_hidden is a boolean shown on every image, set on create
// and by patch, and hidden images are listed only when asked for.
func TestOSHidden(t *testing.T) {
	e := newEnv(t, nil)
	plain := e.post(t, tokAlice, `{"name":"plain"}`)
	if plain["os_hidden"] != false {
		t.Fatalf("os_hidden of a new image: %v", plain["os_hidden"])
	}
	hid := e.post(t, tokAlice, `{"name":"hid","os_hidden":true}`)
	if hid["os_hidden"] != true {
		t.Fatalf("os_hidden not set on create: %v", hid["os_hidden"])
	}
	patch := func(id, doc string) (int, string) {
		code, out, _ := e.do(t, "PATCH", "/v2/images/"+id, tokAlice, patchMediaType, strings.NewReader(doc))
		return code, out
	}
	if code, out := patch(plain["id"].(string), `[{"op":"replace","path":"/os_hidden","value":true}]`); code != 200 ||
		!strings.Contains(out, `"os_hidden":true`) {
		t.Fatalf("patch os_hidden: %d %s", code, out)
	}
	if code, out := patch(hid["id"].(string), `[{"op":"add","path":"/os_hidden","value":false}]`); code != 200 ||
		!strings.Contains(out, `"os_hidden":false`) {
		t.Fatalf("patch os_hidden back: %d %s", code, out)
	}
	for _, tc := range []struct{ doc, msg string }{
		{`[{"op":"replace","path":"/os_hidden","value":"yes"}]`, "os_hidden"},
		{`[{"op":"replace","path":"/os_hidden","value":null}]`, "needs a value"},
		{`[{"op":"remove","path":"/os_hidden"}]`, "cannot be removed"},
	} {
		if code, out := patch(hid["id"].(string), tc.doc); code/100 != 4 || !strings.Contains(out, tc.msg) {
			t.Errorf("%s: %d %s", tc.doc, code, out)
		}
	}
	if code, out, _ := e.do(t, "POST", "/v2/images", tokAlice, "application/json",
		strings.NewReader(`{"name":"x","os_hidden":"true"}`)); code != 400 {
		t.Fatalf("string os_hidden on create: %d %s", code, out)
	}
	if _, names, _ := e.names(t, tokAlice, "/v2/images"); strings.Join(names, " ") != "hid" {
		t.Fatalf("default list %v, want only the image no longer hidden", names)
	}
	if _, names, _ := e.names(t, tokAlice, "/v2/images?os_hidden=true"); strings.Join(names, " ") != "plain" {
		t.Fatalf("os_hidden=true list %v", names)
	}
	// A hidden image is still found by id.
	if code, _, _ := e.do(t, "GET", "/v2/images/"+plain["id"].(string), tokAlice, "", nil); code != 200 {
		t.Fatalf("get hidden image: %d", code)
	}
}

// imageCount is every record in the catalog, deleted ones included.
func (e *env) imageCount(t *testing.T) int {
	t.Helper()
	imgs, err := e.cat.List(t.Context(), catalog.Filter{Admin: true, Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	return len(imgs)
}
