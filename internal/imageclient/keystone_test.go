package imageclient

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/cowdisk/cowdisk/internal/errs"
)

// fakeKeystone issues token "member" (known to serve's token table) for
// user alice with password secret, with a catalog naming imageURL.
func fakeKeystone(t *testing.T, imageURL string) string {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost || r.URL.Path != "/v3/auth/tokens" {
			http.NotFound(w, r)
			return
		}
		var req struct {
			Auth struct {
				Identity struct {
					Password struct {
						User struct{ Name, Password string }
					}
				}
			}
		}
		body, _ := io.ReadAll(r.Body)
		json.Unmarshal(body, &req)
		if u := req.Auth.Identity.Password.User; u.Name != "alice" || u.Password != "secret" {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		w.Header().Set("X-Subject-Token", "member")
		w.WriteHeader(http.StatusCreated)
		json.NewEncoder(w).Encode(map[string]any{"token": map[string]any{
			"expires_at": "2999-01-01T00:00:00.000000Z",
			"catalog": []any{map[string]any{"type": "image", "name": "glance", "endpoints": []any{
				map[string]any{"interface": "public", "region": "RegionOne", "region_id": "RegionOne", "url": imageURL, "id": "1"},
			}}},
		}})
	}))
	t.Cleanup(srv.Close)
	return srv.URL + "/v3"
}

func TestKeystone(t *testing.T) {
	ctx := context.Background()
	url := serve(t)
	t.Setenv("OS_AUTH_URL", fakeKeystone(t, url))
	t.Setenv("OS_USERNAME", "alice")
	t.Setenv("OS_PASSWORD", "secret")
	t.Setenv("OS_PROJECT_NAME", "p1")
	t.Setenv("OS_USER_DOMAIN_NAME", "Default")
	t.Setenv("OS_PROJECT_DOMAIN_NAME", "Default")
	t.Setenv("OS_REGION_NAME", "RegionOne")
	if !KeystoneConfigured() {
		t.Fatal("OS_AUTH_URL not seen")
	}
	for _, endpoint := range []string{"", url} { // from the catalog, and given
		c, err := NewFromKeystone(ctx, endpoint, Options{})
		if err != nil {
			t.Fatal(err)
		}
		img, err := c.Create(ctx, CreateOptions{Name: "via-keystone"})
		if err != nil || img.Owner != "p1" {
			t.Fatalf("endpoint %q: %+v %v", endpoint, img, err)
		}
	}
	t.Setenv("OS_PASSWORD", "wrong")
	if _, err := NewFromKeystone(ctx, "", Options{}); !errors.Is(err, errs.ErrPermission) {
		t.Fatalf("wrong password: %v", err)
	}
}
