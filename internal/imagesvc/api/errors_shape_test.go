package api

import (
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/gophercloud/gophercloud/v2/openstack/image/v2/images"
)

func TestErrorMedia(t *testing.T) {
	for _, tc := range []struct {
		accept []string
		want   string
	}{
		{nil, mediaPlain},
		{[]string{"*/*"}, mediaHTML}, // glanceclient, curl
		{[]string{"application/json"}, mediaJSON},
		{[]string{"application/json;q=0.9, text/html;q=0.8"}, mediaJSON},
		{[]string{"text/*;q=0.5, application/*"}, mediaJSON},
		{[]string{"application/octet-stream"}, mediaPlain},
		{[]string{"text/html;q=0, */*"}, mediaJSON},
		{[]string{"application/octet-stream", "application/json"}, mediaJSON},
		{[]string{"garbage"}, mediaPlain},
	} {
		if got := errorMedia(tc.accept); got != tc.want {
			t.Errorf("Accept %q: %s, want %s", tc.accept, got, tc.want)
		}
	}
}

// glanceclientDetails is what glanceclient's exc.from_response makes of an
// HTML error body: tags stripped, lines trimmed, empty and repeated lines
// dropped, joined with ": ".
func glanceclientDetails(body string) string {
	tag := regexp.MustCompile(`<.+?>`)
	var out []string
	seen := map[string]bool{}
	for _, l := range strings.Split(body, "\n") {
		l = tag.ReplaceAllString(strings.TrimSpace(l), "")
		if l != "" && !seen[l] {
			out = append(out, l)
			seen[l] = true
		}
	}
	return strings.Join(out, ": ")
}

// TestErrorBodies sends the same failing requests with the Accept headers
// of glanceclient (*/*), gophercloud and openstacksdk (application/json)
// and none; the validated() wrapper checks each media type, this test the
// message a client ends up showing.
func TestErrorBodies(t *testing.T) {
	e := newEnv(t, nil)
	missing := "/v2/images/0f0e0d0c-0b0a-4908-8706-050403020100"
	taken := e.mkImage(t, tokAlice, images.CreateOpts{})
	for _, tc := range []struct {
		name, method, path, ctype, body string
		code                            int
		msg                             string
	}{
		{"404", "GET", missing, "", "", 404, "not found"},
		{"400", "POST", "/v2/images", "application/json", `{"disk_format":"qcow3"}`, 400, "disk_format"},
		{"403", "POST", "/v2/images", "application/json", `{"status":"active"}`, 403, "read-only"},
		{"405", "DELETE", "/v2/info/stores", "", "", 405, "not allowed"},
		{"409", "POST", "/v2/images", "application/json", `{"id":"` + taken + `"}`, 409, "exists"},
		{"413", "POST", "/v2/images", "application/json", `{"name":"` + strings.Repeat("n", 1<<20) + `"}`, 413, "too large"},
		{"404 route", "GET", "/v2/nothing", "", "", 404, "could not be found"},
	} {
		for _, accept := range []string{"*/*", "application/json", ""} {
			var hdr []string
			if accept != "" {
				hdr = []string{"Accept", accept}
			}
			code, body, h := e.do(t, tc.method, tc.path, tokAlice, tc.ctype, strings.NewReader(tc.body), hdr...)
			if code != tc.code || !strings.Contains(strings.ToLower(body), tc.msg) {
				t.Errorf("%s, Accept %q: %d %s", tc.name, accept, code, body)
			}
			if code == http.StatusMethodNotAllowed && h.Get("Allow") == "" {
				t.Errorf("%s: 405 without Allow", tc.name)
			}
			if accept == "*/*" {
				d := glanceclientDetails(body)
				prefix := fmt.Sprintf("%d %s: ", code, http.StatusText(code))
				if !strings.HasPrefix(d, prefix) || !strings.Contains(strings.ToLower(d), tc.msg) {
					t.Errorf("%s: glanceclient would show %q", tc.name, d)
				}
			}
		}
	}
}

// TestHTMLErrorEscapes: a message quoting client input cannot inject markup
// into the HTML body glanceclient reads.
func TestHTMLErrorEscapes(t *testing.T) {
	e := newEnv(t, nil)
	id := e.mkImage(t, tokAlice, images.CreateOpts{})
	code, body, _ := e.do(t, "DELETE", "/v2/images/"+id+"/tags/%3Cb%3Ex", tokAlice, "", nil, "Accept", "*/*")
	if code != 404 || contains(body, "<b>") || !contains(body, "&lt;b&gt;x") {
		t.Fatalf("%d %s", code, body)
	}
	if d := glanceclientDetails(body); !contains(d, `"&lt;b&gt;x"`) {
		t.Fatalf("glanceclient shows %q", d)
	}
}
