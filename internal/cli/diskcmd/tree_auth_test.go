package diskcmd

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/cowdisk/cowdisk/internal/agent"
)

// A project caller gets 403 for the cache: the tree shows its own disks
// instead of failing, and the token goes to the agent.
func TestTreeForAProject(t *testing.T) {
	disks := []agent.Disk{{InstanceID: "i1", Name: "disk", Pool: "vms", Image: "i1_disk", ImageID: "q1", Parent: "vms/base_q1@snap"}}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /v1/disks", func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("X-Auth-Token") != "p1" {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		_ = json.NewEncoder(w).Encode(disks)
	})
	mux.HandleFunc("GET /v1/cache", func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusForbidden)
		_, _ = w.Write([]byte(`{"error":{"code":"forbidden","message":"admin and service only"}}`))
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()
	tree := run(t, "tree", "--agent", srv.URL, "--token", "p1")
	if !strings.Contains(tree, "image q1\n└── vms/base_q1@snap\n    └── vms/i1_disk\n") {
		t.Errorf("tree:\n%s", tree)
	}
}
