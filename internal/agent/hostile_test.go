package agent

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// Hostile callers (issue 11, findings 10 and 11): JSON that a lenient
// decoder would resolve one way or another, and ids that are not ids, are
// 400 naming the cause, and never reach the backend.
func TestHostileCallers(t *testing.T) {
	const id = "a5ced000-0000-4000-8000-00000000abcd"
	for _, tc := range []struct{ name, body, want string }{
		{"duplicate instance_id", `{"instance_id":"i1","image_id":"` + id + `","instance_id":"i2"}`, `duplicate member "instance_id"`},
		{"case twin", `{"instance_id":"i1","image_id":"` + id + `","INSTANCE_ID":"i2"}`, `"instance_id" and "INSTANCE_ID" differ only in case`},
		{"case twin by long s", `{"instance_id":"i1","image_id":"` + id + `","ſize_bytes":1,"size_bytes":2}`, "differ only in case"},
		{"query in image_id", `{"instance_id":"i1","image_id":"` + id + `?x=1"}`, "not a canonical lower-case UUID"},
		{"path in image_id", `{"instance_id":"i1","image_id":"../` + id + `"}`, "not a canonical lower-case UUID"},
		{"upper-case image_id", `{"instance_id":"i1","image_id":"` + strings.ToUpper(id) + `"}`, "not a canonical lower-case UUID"},
		{"invalid UTF-8", "{\"instance_id\":\"i\xff1\",\"image_id\":\"" + id + "\"}", "not valid UTF-8"},
		{"lone surrogate", `{"instance_id":"i\udc001","image_id":"` + id + `"}`, "lone surrogate"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := &fakeBackend{}
			srv := httptest.NewServer(stopAtEnd(t, New(b, quiet())))
			defer srv.Close()
			resp, err := http.Post(srv.URL+"/v1/disks", "application/json", strings.NewReader(tc.body))
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			var e ErrorBody
			_ = json.NewDecoder(resp.Body).Decode(&e)
			if resp.StatusCode != http.StatusBadRequest || !strings.Contains(e.Error.Message, tc.want) {
				t.Fatalf("%d %+v; want 400 mentioning %q", resp.StatusCode, e, tc.want)
			}
			if len(b.got) != 0 {
				t.Fatalf("the backend was called: %v", b.got)
			}
		})
	}
}

// The resize body is strict too.
func TestHostileResizeBody(t *testing.T) {
	b := &fakeBackend{}
	srv := httptest.NewServer(stopAtEnd(t, New(b, quiet())))
	defer srv.Close()
	resp, err := http.Post(srv.URL+"/v1/disks/i1/disk/resize", "application/json", strings.NewReader(`{"size_bytes":1,"Size_Bytes":99}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest || len(b.got) != 0 {
		t.Fatalf("%d, backend %v; want 400 and no call", resp.StatusCode, b.got)
	}
}
