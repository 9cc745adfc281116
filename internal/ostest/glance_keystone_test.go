package ostest

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/cowdisk/cowdisk/internal/testcluster"
)

// TestGlanceKeystone: a real Glance behind a real Keystone (flavor
// keystone, its own service user) takes a user's token, refuses a bogus
// one or none with 401, and records the user's project as the owner.
func TestGlanceKeystone(t *testing.T) {
	c := testcluster.Connect(t)
	pool, _ := testcluster.Pools(t, "ostest")
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	k := StartKeystone(t, KeystoneOptions{})
	svcProject, err := k.CreateProject(ctx, "service")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := k.CreateUser(ctx, "glance", "glance-pw", svcProject, "service", "service"); err != nil {
		t.Fatal(err)
	}
	g := StartGlance(t, GlanceOptions{CephConf: c.Config().ConfPath, Pool: pool, Auth: GlanceKeystone,
		Keystone: GlanceKeystoneAuth{URL: k.URL, Username: "glance", Password: "glance-pw", Project: "service"}})
	projA, err := k.CreateProject(ctx, "project-a")
	if err != nil {
		t.Fatal(err)
	}
	alice, err := k.CreateUser(ctx, "alice", "alice-pw", projA, "project-a", "member")
	if err != nil {
		t.Fatal(err)
	}
	tok, err := alice.Token(ctx, k)
	if err != nil {
		t.Fatal(err)
	}
	withToken := func(tok string) http.Header {
		h := http.Header{}
		if tok != "" {
			h.Set("X-Auth-Token", tok)
		}
		return h
	}
	for _, bad := range []string{"", "not-a-token"} {
		if st := glanceCall(t, g, withToken(bad), "GET", "/v2/images", "", nil, nil); st != 401 {
			t.Fatalf("token %q: %d, want 401 (%s)", bad, st, g.LogTail())
		}
	}
	var img struct{ ID, Owner, Status string }
	create := []byte(`{"name":"ks","disk_format":"raw","container_format":"bare"}`)
	if st := glanceCall(t, g, withToken(tok), "POST", "/v2/images", "application/json", create, &img); st != 201 {
		t.Fatalf("create: %d (%s)", st, g.LogTail())
	}
	data := make([]byte, 1<<20)
	copy(data, "keystone")
	if st := glanceCall(t, g, withToken(tok), "PUT", "/v2/images/"+img.ID+"/file", "application/octet-stream", data, nil); st != 204 {
		t.Fatalf("upload: %d (%s)", st, g.LogTail())
	}
	if st := glanceCall(t, g, withToken(tok), "GET", "/v2/images/"+img.ID, "", nil, &img); st != 200 ||
		img.Owner != projA || img.Status != "active" {
		t.Fatalf("get: %d %+v; want active, owner %s", st, img, projA)
	}
	checkGlanceImage(t, c, pool, img.ID, len(data))
	if st := glanceCall(t, g, withToken(tok), "DELETE", "/v2/images/"+img.ID, "", nil, nil); st != 204 {
		t.Fatalf("delete: %d", st)
	}
	testcluster.AssertPoolClean(t, c, pool)
}
