//go:build interop

package clients

import (
	"bytes"
	"crypto/md5"
	"crypto/sha512"
	"encoding/hex"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"
	"time"
)

// scenario is one client command (or a pair such as deactivate and
// reactivate) checked against one service.
type scenario struct {
	name string
	run  func(t *testing.T, s *service)
}

// runScenarios runs each scenario as a parallel subtest named after its
// command. Every scenario works on images of its own, so they never race.
func runScenarios(t *testing.T, s *service, list []scenario) {
	for _, sc := range list {
		t.Run(sc.name, func(t *testing.T) {
			t.Parallel()
			sc.run(t, s)
		})
	}
}

// waitStatus polls the image until its status is want (imports finish in
// the background) and returns it; it fails t after a minute or when the
// image reaches another final status.
func (s *service) waitStatus(t *testing.T, id, want string) map[string]any {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for {
		img := s.image(t, id)
		st := str(img, "status")
		if st == want {
			return img
		}
		if st == "killed" || st == "deleted" || time.Now().After(deadline) {
			t.Fatalf("image %s: status %q, want %q (image %v)", id, st, want, img)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// webServer serves data on a loopback port for web-download imports. It
// fails t when the service was started without an allow-list for it.
func (s *service) webServer(t *testing.T, data []byte) string {
	t.Helper()
	if !s.webDownload {
		t.Fatal("cowdisk serve images has no --web-download-allow flag: web-download cannot be allowed " +
			"for the test's loopback server (branch import-locations)")
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.ServeContent(w, r, "image.raw", time.Time{}, bytes.NewReader(data))
	}))
	t.Cleanup(srv.Close)
	return srv.URL + "/image.raw"
}

// assertActive checks the service holds exactly data for an active image.
func (s *service) assertActive(t *testing.T, id string, data []byte) {
	t.Helper()
	img := s.image(t, id)
	if st := str(img, "status"); st != "active" {
		t.Fatalf("image %s: status %q, want active", id, st)
	}
	md5sum, sha := md5.Sum(data), sha512.Sum512(data)
	want := map[string]string{"size": strconv.Itoa(len(data)), "checksum": hex.EncodeToString(md5sum[:]),
		"os_hash_algo": "sha512", "os_hash_value": hex.EncodeToString(sha[:])}
	for k, v := range want {
		if got := str(img, k); got != v {
			t.Errorf("image %s: %s = %q, want %q", id, k, got, v)
		}
	}
	if got := s.data(t, id); !bytes.Equal(got, data) {
		t.Errorf("image %s: the service serves %d bytes, not the %d uploaded", id, len(got), len(data))
	}
	s.assertStored(t, id, true)
}
