//go:build interop

package clients

import (
	"encoding/json"
	"net/http"
	"os"
	"testing"

	"github.com/cowdisk/cowdisk/internal/testcluster"
)

// TestStoresClean runs last (go test runs top-level tests in source order
// and this file sorts last): every test deleted its images, so each
// service's catalog and store must be empty, failed commands included.
// Leftovers are reported, then removed so the next run starts clean.
func TestStoresClean(t *testing.T) {
	servicesMu.Lock()
	defer servicesMu.Unlock()
	if len(services) == 0 {
		t.Fatal("no service was started: run the whole package (no -run filter that leaves out every client test)")
	}
	for name, s := range services {
		t.Run(name, func(t *testing.T) {
			if left := s.allImages(t); len(left) > 0 {
				for _, id := range left {
					img := s.image(t, id)
					t.Errorf("image left in the catalog: %s %q status %s", id, str(img, "name"), str(img, "status"))
					s.request(t, "admin", http.MethodDelete, "/v2/images/"+id, "", nil)
				}
			}
			switch s.mode.store {
			case "rbd":
				testcluster.AssertPoolClean(t, testcluster.Connect(t), s.pool)
			case "file":
				entries, err := os.ReadDir(s.fileDir)
				if err != nil && !os.IsNotExist(err) {
					t.Fatal(err)
				}
				for _, e := range entries {
					t.Errorf("file store holds %s", e.Name())
				}
			}
		})
	}
}

// allImages lists every image id as admin, following next links.
func (s *service) allImages(t *testing.T) []string {
	t.Helper()
	var ids []string
	for path := "/v2/images?limit=100"; path != ""; {
		code, body := s.request(t, "admin", http.MethodGet, path, "", nil)
		if code != http.StatusOK {
			t.Fatalf("GET %s: %d %s", path, code, body)
		}
		var page struct {
			Images []struct{ ID string }
			Next   string
		}
		if err := json.Unmarshal(body, &page); err != nil {
			t.Fatalf("GET %s: %v", path, err)
		}
		for _, img := range page.Images {
			ids = append(ids, img.ID)
		}
		path = page.Next
		if len(ids) > 10000 {
			t.Fatal("more than 10000 images listed: the next links loop")
		}
	}
	return ids
}
