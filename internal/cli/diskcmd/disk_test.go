package diskcmd

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/cowdisk/cowdisk/internal/agent"
)

// cannedAgent answers the two reads the tree needs.
func cannedAgent(t *testing.T) *httptest.Server {
	disks := []agent.Disk{
		{InstanceID: "i1", Name: "disk", Pool: "vms", Image: "i1_disk", ImageID: "raw1", Method: "clone", Parent: "images/raw1@snap"},
		{InstanceID: "i2", Name: "disk", Pool: "vms", Image: "i2_disk", ImageID: "q1", Method: "base-clone", Parent: "vms/base_q1@snap-ab"},
	}
	bases := []agent.Base{{ImageID: "q1", Pool: "vms", Image: "base_q1", Snapshot: "snap-ab", Children: []string{"vms/i2_disk"}},
		{ImageID: "old", Pool: "vms", Image: "base_old", Snapshot: "snap"}}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /v1/disks", func(w http.ResponseWriter, r *http.Request) { _ = json.NewEncoder(w).Encode(disks) })
	mux.HandleFunc("GET /v1/cache", func(w http.ResponseWriter, r *http.Request) { _ = json.NewEncoder(w).Encode(bases) })
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv
}

func run(t *testing.T, args ...string) string {
	t.Helper()
	cmd := Command()
	var out bytes.Buffer
	cmd.SetOut(&out)
	cmd.SetArgs(args)
	if err := cmd.Execute(); err != nil {
		t.Fatalf("%v: %v", args, err)
	}
	return out.String()
}

func TestTreeAndList(t *testing.T) {
	srv := cannedAgent(t)
	tree := run(t, "tree", "--agent", srv.URL)
	for _, want := range []string{"image old\n└── vms/base_old@snap\n", "image q1\n└── vms/base_q1@snap-ab\n    └── vms/i2_disk\n", "image raw1\n└── images/raw1@snap\n    └── vms/i1_disk\n"} {
		if !strings.Contains(tree, want) {
			t.Errorf("tree lacks %q:\n%s", want, tree)
		}
	}
	var got []agent.Disk
	if err := json.Unmarshal([]byte(run(t, "ls", "--json", "--agent", srv.URL)), &got); err != nil || len(got) != 2 {
		t.Fatalf("ls --json: %v %+v", err, got)
	}
	if table := run(t, "ls", "--agent", srv.URL); !strings.Contains(table, "base-clone") || !strings.HasPrefix(table, "INSTANCE") {
		t.Fatalf("ls table:\n%s", table)
	}
}
