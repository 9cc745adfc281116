package api

import (
	"bytes"
	"net/http"
	"strings"
	"testing"

	"github.com/gophercloud/gophercloud/v2/openstack/image/v2/images"

	"github.com/cowdisk/cowdisk/internal/imagesvc/catalog"
	"github.com/cowdisk/cowdisk/internal/imagesvc/store/storetest"
)

// An import stores image data as an upload does, so it counts against the
// owner's storage quota: past it the import fails, nothing is stored, the
// image goes back to queued and no reservation is left.
func TestImportHonoursStorageQuota(t *testing.T) {
	e := newEnv(t, nil).withLimits(Limits{UserStorageQuota: 1 << 20})
	e.withImport(t)
	id := e.mkImage(t, tokAlice, images.CreateOpts{})
	data := storetest.Data(2<<20, 3)
	if code, body, _ := e.do(t, "PUT", "/v2/images/"+id+"/stage", tokAlice, "application/octet-stream", bytes.NewReader(data)); code != http.StatusNoContent {
		t.Fatalf("stage: %d %s", code, body)
	}
	stored := e.storedFiles(t)
	if code, body, _ := e.do(t, "POST", "/v2/images/"+id+"/import", tokAlice, "application/json",
		strings.NewReader(`{"method":{"name":"glance-direct"}}`)); code != http.StatusAccepted {
		t.Fatalf("import: %d %s", code, body)
	}
	img := e.waitImport(t, id)
	if img.Status != catalog.StatusQueued || img.Properties[propFailed] == "" {
		t.Fatalf("import past the quota: %s %v", img.Status, img.Properties)
	}
	if got := e.storedFiles(t); len(got) != len(stored) {
		t.Fatalf("files %v after a refused import, want %v", got, stored)
	}
	if n := len(e.api.quota.inflight); n != 0 {
		t.Fatalf("reservations left after the import: %v", e.api.quota.inflight)
	}
}
