package agent

import (
	"bytes"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// TestObserve: every request gets an id, echoed in X-Request-Id and in
// its one log line, and is counted by route and code; the build and the
// base cache are exported; readiness has the shared body.
func TestObserve(t *testing.T) {
	var logs bytes.Buffer
	s := New(&fakeBackend{}, slog.New(slog.NewTextHandler(&logs, nil)))
	defer s.Close()
	srv := httptest.NewServer(s)
	defer srv.Close()
	resp, err := http.Post(srv.URL+"/v1/disks", "application/json", strings.NewReader(`{`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	id := resp.Header.Get(requestIDHeader)
	if !strings.HasPrefix(id, "req-") {
		t.Fatalf("X-Request-Id %q", id)
	}
	var line string
	for _, l := range strings.Split(logs.String(), "\n") {
		if strings.Contains(l, "msg=request ") && strings.Contains(l, "request_id="+id) {
			line = l
		}
	}
	for _, want := range []string{"route=\"POST /v1/disks\"", "status=400", "method=POST"} {
		if !strings.Contains(line, want) {
			t.Errorf("log line %q lacks %s", line, want)
		}
	}
	if !strings.Contains(logs.String(), `msg="request failed"`) || strings.Count(logs.String(), "request_id="+id) != 2 {
		t.Errorf("the failure's own line does not carry the request id:\n%s", logs.String())
	}
	get := func(path string) (int, string) { return httpGet(t, srv.URL+path) }
	for _, tc := range []struct{ path, want string }{
		{"/readyz", `{"status":"ok","checked":`},
		{"/livez", `{"status":"ok","checked":`},
		{"/metrics", `cowdisk_node_http_requests_total{code="400",route="POST /v1/disks"} 1`},
		{"/metrics", `cowdisk_node_http_request_duration_seconds_count{route="POST /v1/disks"} 1`},
		{"/metrics", `cowdisk_build_info{commit=`},
		{"/metrics", "\ncowdisk_node_bases 1\n"},
		{"/metrics", "\ncowdisk_node_cache_bytes 0\n"},
		{"/metrics", "\ncowdisk_node_ready 1\n"},
		{"/metrics", `cowdisk_node_check_ok{check="backend"} 1`},
	} {
		if code, body := get(tc.path); code != 200 || !strings.Contains(body, tc.want) {
			t.Errorf("%s: %d, want %q in\n%.3000s", tc.path, code, tc.want, body)
		}
	}
}

// httpGet returns the status and body of a GET.
func httpGet(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}
