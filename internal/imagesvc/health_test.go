package imagesvc

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestReadinessFollowsStore: /readyz is answered from the background
// checks with the shared body, right after Start, and turns 503 naming
// the check when the file store's directory goes; /livez stays 200.
func TestReadinessFollowsStore(t *testing.T) {
	dir := t.TempDir()
	s, err := Start(context.Background(), Config{Listen: "127.0.0.1:0", DB: filepath.Join(dir, "c.db"),
		FileDir: filepath.Join(dir, "images"), Auth: "none", HealthInterval: 20 * time.Millisecond,
		Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Shutdown()
	type report struct {
		Status  string   `json:"status"`
		Reasons []string `json:"reasons"`
	}
	get := func(path string) (int, report) {
		resp, err := http.Get("http://" + s.Addr() + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		var r report
		if err := json.Unmarshal(b, &r); err != nil {
			t.Fatalf("%s: %v %q", path, err, b)
		}
		return resp.StatusCode, r
	}
	for _, p := range []string{"/readyz", "/healthz", "/livez"} {
		if code, r := get(p); code != 200 || r.Status != "ok" {
			t.Errorf("%s right after Start: %d %+v", p, code, r)
		}
	}
	if err := os.RemoveAll(filepath.Join(dir, "images")); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		code, r := get("/readyz")
		if code == 503 && r.Status == "unavailable" && strings.HasPrefix(strings.Join(r.Reasons, ""), "store: ") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("/readyz with the store gone: %d %+v", code, r)
		}
	}
	if code, r := get("/livez"); code != 200 {
		t.Errorf("/livez: %d %+v", code, r)
	}
}
