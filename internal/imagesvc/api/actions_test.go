package api

import (
	"bytes"
	"context"
	"net/http"
	"testing"

	"github.com/gophercloud/gophercloud/v2/openstack/image/v2/imagedata"
	"github.com/gophercloud/gophercloud/v2/openstack/image/v2/images"

	"github.com/cowdisk/cowdisk/internal/imagesvc/catalog"
)

// activeImage creates and uploads a small raw image as alice.
func (e *env) activeImage(t *testing.T, opts images.CreateOpts) string {
	t.Helper()
	id := e.mkImage(t, tokAlice, opts)
	if err := imagedata.Upload(context.Background(), e.client(tokAlice), id, bytes.NewReader(make([]byte, 4096))).ExtractErr(); err != nil {
		t.Fatalf("upload: %v", err)
	}
	return id
}

// record reads an image's catalog record.
func (e *env) record(t *testing.T, id string) catalog.Image {
	t.Helper()
	img, err := e.cat.Get(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return img
}

// TestDeactivateReactivate follows Glance's rules: the owner's members and
// admins switch an active image off and on (204, repeating is a no-op);
// others get 403 (or 404 when they cannot see it); an image not active is
// 403; while deactivated only admins download its data.
func TestDeactivateReactivate(t *testing.T) {
	e := newEnv(t, nil)
	id := e.activeImage(t, images.CreateOpts{Visibility: vis(images.ImageVisibilityCommunity)})
	queued := e.mkImage(t, tokAlice, images.CreateOpts{})
	act := func(id, action, tok string) int {
		code, _, _ := e.do(t, "POST", "/v2/images/"+id+"/actions/"+action, tok, "", nil)
		return code
	}
	steps := []struct {
		name, id, action, tok string
		code                  int
		status                string
	}{
		{"reader may not", id, "deactivate", tokReader, 403, "active"},
		{"other project may not", id, "deactivate", tokBob, 403, "active"},
		{"service may not", id, "deactivate", tokSvc, 403, "active"},
		{"owner deactivates", id, "deactivate", tokAlice, 204, "deactivated"},
		{"again is a no-op", id, "deactivate", tokAlice, 204, "deactivated"},
		{"other project may not reactivate", id, "reactivate", tokBob, 403, "deactivated"},
		{"admin reactivates", id, "reactivate", tokAdmin, 204, "active"},
		{"reactivate active is a no-op", id, "reactivate", tokAlice, 204, "active"},
		{"admin deactivates", id, "deactivate", tokAdmin, 204, "deactivated"},
		{"queued cannot be deactivated", queued, "deactivate", tokAlice, 403, "queued"},
		{"queued cannot be reactivated", queued, "reactivate", tokAlice, 403, "queued"},
	}
	for _, s := range steps {
		if code := act(s.id, s.action, s.tok); code != s.code {
			t.Fatalf("%s: %d, want %d", s.name, code, s.code)
		}
		if got := e.record(t, s.id).Status; got != s.status {
			t.Fatalf("%s: status %s, want %s", s.name, got, s.status)
		}
	}
	if code := act("0f0e0d0c-0b0a-4908-8706-050403020100", "deactivate", tokAlice); code != 404 {
		t.Fatalf("unknown image: %d", code)
	}
	if code := act(id, "hibernate", tokAlice); code != 404 {
		t.Fatalf("unknown action: %d", code)
	}

	// Deactivated: the record shows it; data is refused to all but admins.
	img, err := images.Get(context.Background(), e.client(tokBob), id).Extract()
	if err != nil || img.Status != "deactivated" {
		t.Fatalf("record: %+v %v", img, err)
	}
	for tok, want := range map[string]int{tokAlice: 403, tokBob: 403, tokSvc: 403, tokAdmin: 200} {
		code, body, _ := e.do(t, "GET", "/v2/images/"+id+"/file", tok, "", nil)
		if code != want || want == 403 && !contains(body, "deactivated") {
			t.Errorf("download by %s: %d %s", tok, code, body)
		}
	}
	// Still no second upload, and reactivation restores downloads.
	if code, _, _ := e.do(t, "PUT", "/v2/images/"+id+"/file", tokAlice, "application/octet-stream", bytes.NewReader([]byte("x"))); code != http.StatusConflict {
		t.Fatalf("upload to a deactivated image: %d", code)
	}
	if act(id, "reactivate", tokAlice) != 204 {
		t.Fatal("reactivate")
	}
	if code, _, _ := e.do(t, "GET", "/v2/images/"+id+"/file", tokBob, "", nil); code != 200 {
		t.Fatalf("download after reactivation: %d", code)
	}
}
