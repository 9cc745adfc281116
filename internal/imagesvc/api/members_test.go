package api

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack/image/v2/images"
	"github.com/gophercloud/gophercloud/v2/openstack/image/v2/members"
	"github.com/gophercloud/gophercloud/v2/pagination"
)

func listed(t *testing.T, c *gophercloud.ServiceClient, id string, opts images.ListOpts) bool {
	t.Helper()
	found := false
	err := images.List(c, opts).EachPage(context.Background(), func(_ context.Context, p pagination.Page) (bool, error) {
		imgs, err := images.ExtractImages(p)
		for _, i := range imgs {
			found = found || i.ID == id
		}
		return true, err
	})
	if err != nil {
		t.Fatal(err)
	}
	return found
}

// TestSharedImageMembers walks Glance's sharing flow with gophercloud's
// members client: the owner shares, the member sees the image at once but
// lists it only after accepting, and loses it when removed.
func TestSharedImageMembers(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, nil)
	alice, bob := e.client(tokAlice), e.client(tokBob)
	id := e.mkImage(t, tokAlice, images.CreateOpts{Visibility: vis(images.ImageVisibilityShared)})
	priv := e.mkImage(t, tokAlice, images.CreateOpts{Visibility: vis(images.ImageVisibilityPrivate)})

	if _, err := images.Get(ctx, bob, id).Extract(); !gophercloud.ResponseCodeIs(err, http.StatusNotFound) {
		t.Fatalf("bob sees an image not shared with him: %v", err)
	}
	if _, err := members.Create(ctx, alice, priv, "p2").Extract(); !gophercloud.ResponseCodeIs(err, http.StatusForbidden) {
		t.Fatalf("member of a private image: %v", err)
	}
	if _, err := members.Create(ctx, bob, id, "p2").Extract(); !gophercloud.ResponseCodeIs(err, http.StatusNotFound) {
		t.Fatalf("bob shares alice's image with himself: %v", err)
	}
	m, err := members.Create(ctx, alice, id, "p2").Extract()
	if err != nil || m.Status != "pending" || m.MemberID != "p2" || m.ImageID != id {
		t.Fatalf("create member: %+v %v", m, err)
	}
	if _, err := members.Create(ctx, alice, id, "p2").Extract(); !gophercloud.ResponseCodeIs(err, http.StatusConflict) {
		t.Fatalf("duplicate member: %v", err)
	}
	if _, err := images.Get(ctx, bob, id).Extract(); err != nil {
		t.Fatalf("pending member cannot see the image: %v", err)
	}
	if listed(t, bob, id, images.ListOpts{}) || !listed(t, bob, id, images.ListOpts{MemberStatus: "pending"}) {
		t.Fatal("a pending share is in the default list, or missing from member_status=pending")
	}
	// The owner cannot accept for the member; the member can.
	accept := members.UpdateOpts{Status: "accepted"}
	if _, err := members.Update(ctx, alice, id, "p2", accept).Extract(); !gophercloud.ResponseCodeIs(err, http.StatusForbidden) {
		t.Fatalf("owner accepts: %v", err)
	}
	if m, err = members.Update(ctx, bob, id, "p2", accept).Extract(); err != nil || m.Status != "accepted" {
		t.Fatalf("member accepts: %+v %v", m, err)
	}
	if !listed(t, bob, id, images.ListOpts{}) {
		t.Fatal("accepted share not listed")
	}
	if code, _, _ := e.do(t, "DELETE", "/v2/images/"+id, tokBob, "", nil); code != http.StatusForbidden {
		t.Fatalf("member deletes the image: %d", code)
	}
	pages, err := members.List(alice, id).AllPages(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if all, _ := members.ExtractMembers(pages); len(all) != 1 {
		t.Fatalf("owner lists %d members", len(all))
	}
	if code, body, _ := e.do(t, "PUT", "/v2/images/"+id+"/members/p2", tokBob, "application/json",
		strings.NewReader(`{"status":"maybe"}`)); code != http.StatusBadRequest {
		t.Fatalf("bad status: %d %s", code, body)
	}
	if err := members.Delete(ctx, alice, id, "p2").ExtractErr(); err != nil {
		t.Fatal(err)
	}
	if _, err := images.Get(ctx, bob, id).Extract(); !gophercloud.ResponseCodeIs(err, http.StatusNotFound) {
		t.Fatalf("removed member still sees the image: %v", err)
	}
}
