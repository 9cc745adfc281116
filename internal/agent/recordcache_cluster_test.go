package agent_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/cowdisk/cowdisk/internal/agent"
	"github.com/cowdisk/cowdisk/internal/imageclient"
)

// With the service's records cached, the real image service's
// deactivation, reactivation and deletion still reach the next create at
// once, even within the second the record was cached in (the racy window
// is off here, so the same-second stamp is all that protects).
func TestCachedRecordsFollowTheImageService(t *testing.T) {
	defer agent.SetRacyWindow(0)()
	e := newAuthEnv(t)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	p1 := e.as("p1")
	id := e.upload("p1", "private")
	defer e.cleanAll("cache-1", "cache-2", "cache-3", "cache-4")
	for _, inst := range []string{"cache-1", "cache-2"} { // the second from the cache
		if _, _, err := p1.CreateDisk(ctx, agent.CreateRequest{InstanceID: inst, ImageID: id}); err != nil {
			t.Fatalf("%s: %v", inst, err)
		}
	}
	e.action("admin", id, "deactivate")
	_, _, err := p1.CreateDisk(ctx, agent.CreateRequest{InstanceID: "cache-3", ImageID: id})
	wantStatus(t, "a deactivated image", err, http.StatusConflict)
	if err != nil && !strings.Contains(err.Error(), "deactivated") {
		t.Errorf("refusal does not say why: %v", err)
	}
	e.assertClean("cache-1_disk", "cache-2_disk", "base_"+id)
	e.action("admin", id, "reactivate")
	if _, _, err := p1.CreateDisk(ctx, agent.CreateRequest{InstanceID: "cache-3", ImageID: id}); err != nil {
		t.Fatalf("after reactivation: %v", err)
	}
	ic, err := imageclient.New(e.imageURL, "p1", imageclient.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := ic.Delete(ctx, id); err != nil {
		t.Fatal(err)
	}
	_, _, err = p1.CreateDisk(ctx, agent.CreateRequest{InstanceID: "cache-4", ImageID: id})
	wantStatus(t, "a deleted image", err, http.StatusNotFound)
}

// action posts /v2/images/{id}/actions/{what} as token.
func (e *authEnv) action(token, id, what string) {
	e.t.Helper()
	req, _ := http.NewRequest(http.MethodPost, e.imageURL+"/v2/images/"+id+"/actions/"+what, nil)
	req.Header.Set("X-Auth-Token", token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNoContent {
		e.t.Fatalf("%s image %s as %s: %d", what, id, token, resp.StatusCode)
	}
}
