package api

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/gophercloud/gophercloud/v2/openstack/image/v2/images"
)

// TestMemberBodies sends member create and update bodies the way OpenStack
// clients do: openstacksdk sends the whole member to accept a share; bad
// bodies are 400 naming the field and change nothing.
func TestMemberBodies(t *testing.T) {
	e := newEnv(t, nil)
	id := e.mkImage(t, tokAlice, images.CreateOpts{Visibility: vis(images.ImageVisibilityShared)})
	members := "/v2/images/" + id + "/members"
	steps := []struct {
		name, method, path, tok, body string
		code                          int
		msg                           string
	}{
		{"no member", "POST", members, tokAlice, `{"status":"pending"}`, 400, "member"},
		{"empty member", "POST", members, tokAlice, `{"member":""}`, 400, "member"},
		{"member not a string", "POST", members, tokAlice, `{"member":7}`, 400, "member"},
		{"long member", "POST", members, tokAlice, `{"member":"` + strings.Repeat("p", 256) + `"}`, 400, "member"},
		{"create with extra keys", "POST", members, tokAlice, `{"member":"p2","image_id":"x"}`, 200, `"status":"pending"`},
		{"sdk accept", "PUT", members + "/p2", tokBob, `{"member":"p2","status":"accepted"}`, 200, `"status":"accepted"`},
		{"no status", "PUT", members + "/p2", tokBob, `{"member":"p2"}`, 400, "status"},
		{"unknown status", "PUT", members + "/p2", tokBob, `{"status":"maybe"}`, 400, "status"},
		{"status not a string", "PUT", members + "/p2", tokBob, `{"status":true}`, 400, "status"},
		{"glanceclient reject", "PUT", members + "/p2", tokBob, `{"status":"rejected"}`, 200, `"status":"rejected"`},
	}
	for _, s := range steps {
		code, body, _ := e.do(t, s.method, s.path, s.tok, "application/json", strings.NewReader(s.body), "Accept", "application/json")
		if code != s.code || !strings.Contains(body, s.msg) {
			t.Fatalf("%s: %d %s; want %d with %q", s.name, code, body, s.code, s.msg)
		}
	}
	_, list, _ := e.do(t, "GET", members, tokAlice, "", nil)
	if strings.Count(list, `"member_id"`) != 1 || !contains(list, `"status":"rejected"`) {
		t.Fatalf("members: %s", list)
	}
}

// TestMemberQuota: Glance's image_member_quota (128); the member past it is
// 413 and is not kept.
func TestMemberQuota(t *testing.T) {
	e := newEnv(t, nil)
	id := e.mkImage(t, tokAlice, images.CreateOpts{Visibility: vis(images.ImageVisibilityShared)})
	add := func(p string) (int, string) {
		code, body, _ := e.do(t, "POST", "/v2/images/"+id+"/members", tokAlice, "application/json",
			strings.NewReader(`{"member":"`+p+`"}`))
		return code, body
	}
	for i := range maxMembers {
		if code, body := add(fmt.Sprint("proj-", i)); code != http.StatusOK {
			t.Fatalf("member %d: %d %s", i, code, body)
		}
	}
	if code, body := add("one-too-many"); code != http.StatusRequestEntityTooLarge || !contains(body, "128") {
		t.Fatalf("past the quota: %d %s", code, body)
	}
	_, list, _ := e.do(t, "GET", "/v2/images/"+id+"/members", tokAlice, "", nil)
	if n := strings.Count(list, `"member_id"`); n != maxMembers || contains(list, "one-too-many") {
		t.Fatalf("%d members kept, want %d", n, maxMembers)
	}
}
