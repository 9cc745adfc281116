package provisioner_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/cowdisk/cowdisk/internal/errs"
	"github.com/cowdisk/cowdisk/internal/provisioner"
)

// imageAction posts a Glance image action (deactivate, reactivate).
func (s *imageService) imageAction(t testing.TB, id, action string) {
	t.Helper()
	resp, err := s.srv.Client().Post(s.srv.URL+"/v2/images/"+id+"/actions/"+action, "", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNoContent {
		t.Fatalf("%s %s: %d", action, id, resp.StatusCode)
	}
}

// TestDeactivatedImageRefused: once an image is deactivated in the real
// image service, the node makes no new disk of it (a clear conflict naming
// the status, nothing created), keeps the disks it made before, and makes
// disks again after reactivation.
func TestDeactivatedImageRefused(t *testing.T) {
	ctx := context.Background()
	e := newClusterEnv(t)
	svc := e.rbdService(t)
	id := svc.upload(t, "raw", make([]byte, 4*mib))
	b := e.backend(t, svc.source(), nil)
	if _, err := b.Create(ctx, provisioner.Request{InstanceID: "11111111-0000-4000-8000-000000000001", ImageID: id}); err != nil {
		t.Fatal(err)
	}
	svc.imageAction(t, id, "deactivate")
	second := provisioner.Request{InstanceID: "11111111-0000-4000-8000-000000000002", ImageID: id}
	_, err := b.Create(ctx, second)
	if !errors.Is(err, errs.ErrConflict) || !strings.Contains(err.Error(), "deactivated") {
		t.Fatalf("new disk of a deactivated image: %v", err)
	}
	disks, err := b.List(ctx, "")
	if err != nil || len(disks) != 1 || disks[0].InstanceID != "11111111-0000-4000-8000-000000000001" {
		t.Fatalf("disks after the refusal: %+v %v", disks, err)
	}
	svc.imageAction(t, id, "reactivate")
	if _, err := b.Create(ctx, second); err != nil {
		t.Fatalf("after reactivation: %v", err)
	}
}
