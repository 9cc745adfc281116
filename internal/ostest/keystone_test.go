package ostest

import (
	"context"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"
)

// TestKeystone boots a real Keystone and checks every helper against it:
// users with roles log in, application credentials work, the image
// endpoint is in the catalog, token expiry follows SetTokenExpiration, and
// Stop/Start keep the data.
func TestKeystone(t *testing.T) {
	ctx := context.Background()
	start := time.Now()
	k := StartKeystone(t, KeystoneOptions{})
	t.Logf("keystone set up and answering in %v", time.Since(start).Round(time.Millisecond))
	pid, err := k.CreateProject(ctx, "p1")
	if err != nil {
		t.Fatal(err)
	}
	u, err := k.CreateUser(ctx, "alice", "alice-pw", pid, "p1", "member", "service")
	if err != nil {
		t.Fatal(err)
	}
	if err := k.AddImageService(ctx, "http://127.0.0.1:1/"); err != nil {
		t.Fatal(err)
	}
	tok, err := u.Token(ctx, k)
	if err != nil {
		t.Fatal(err)
	}
	info := validate(t, k, tok)
	if info.Project.ID != pid || !hasRoles(info.Roles, "member", "service") || !hasImage(info.Catalog) {
		t.Fatalf("token of alice: %+v", info)
	}
	if d := time.Until(info.ExpiresAt); d < 50*time.Minute {
		t.Fatalf("default expiry %v away, want about 1h", d)
	}

	ac, err := k.CreateAppCredential(ctx, u, "ac1")
	if err != nil || ac.ID == "" || ac.Secret == "" {
		t.Fatalf("app credential: %+v %v", ac, err)
	}
	path, err := k.WriteCloudsYAML(t.TempDir(), map[string]KeystoneUser{"pw": u}, map[string]AppCredential{"ac": ac})
	if err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(path); !strings.Contains(string(b), ac.ID) || !strings.Contains(string(b), "alice-pw") {
		t.Fatalf("clouds.yaml:\n%s", b)
	}

	start = time.Now()
	if err := k.SetTokenExpiration(ctx, 30); err != nil {
		t.Fatal(err)
	}
	t.Logf("keystone restarted in %v", time.Since(start).Round(time.Millisecond))
	tok2, err := u.Token(ctx, k) // data survived the restart
	if err != nil {
		t.Fatal(err)
	}
	if d := time.Until(validate(t, k, tok2).ExpiresAt); d > 31*time.Second {
		t.Fatalf("expiry %v away after SetTokenExpiration(30)", d)
	}
	if err := k.RevokeToken(ctx, tok2); err != nil {
		t.Fatal(err)
	}
	if code := validateCode(t, k, tok2); code != http.StatusNotFound {
		t.Fatalf("revoked token: validation answered %d, want 404", code)
	}
}

type tokenInfo struct {
	ExpiresAt time.Time `json:"expires_at"`
	Project   struct{ ID string }
	Roles     []struct{ Name string }
	Catalog   []struct{ Type string }
}

func validate(t *testing.T, k *Keystone, tok string) tokenInfo {
	t.Helper()
	admin, err := k.AdminToken(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var out struct{ Token tokenInfo }
	_, err = k.callWith(context.Background(), admin, http.MethodGet, "/auth/tokens", nil, &out,
		func(r *http.Request) { r.Header.Set("X-Subject-Token", tok) })
	if err != nil {
		t.Fatal(err)
	}
	return out.Token
}

func validateCode(t *testing.T, k *Keystone, tok string) int {
	t.Helper()
	admin, err := k.AdminToken(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest(http.MethodGet, k.URL+"/auth/tokens", nil)
	req.Header.Set("X-Auth-Token", admin)
	req.Header.Set("X-Subject-Token", tok)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

func hasRoles(got []struct{ Name string }, want ...string) bool {
	seen := map[string]bool{}
	for _, r := range got {
		seen[r.Name] = true
	}
	for _, w := range want {
		if !seen[w] {
			return false
		}
	}
	return true
}

func hasImage(cat []struct{ Type string }) bool {
	for _, s := range cat {
		if s.Type == "image" {
			return true
		}
	}
	return false
}
