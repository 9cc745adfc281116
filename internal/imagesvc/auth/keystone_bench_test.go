package auth_test

import (
	"context"
	"io"
	"net/http"
	"testing"

	"github.com/cowdisk/cowdisk/internal/imagesvc/auth"
	"github.com/cowdisk/cowdisk/internal/imagesvc/imagesvctest"
	"github.com/cowdisk/cowdisk/internal/ostest"
)

// BenchmarkKeystoneGetImage: a warm GET /v2/images/{id} with --auth
// keystone (real Keystone, the token already validated and cached) beside
// --auth none, in one run. The target is keystone ≤ 1.2 × none:
//
//	go test -tags pacific -run '^$' -bench KeystoneGetImage -count 5 ./internal/imagesvc/auth
func BenchmarkKeystoneGetImage(b *testing.B) {
	k, w := sharedKeystone(b)
	u := w.users[auth.Member]
	tok := token(b, k, ostest.TokenRequest{User: u.Name, Password: u.Password, ProjectID: w.p1})
	modes := []struct {
		name  string
		authn auth.Authenticator
	}{
		{"none", auth.None{Project: w.p1}},
		{"keystone", validator(b, k, w, 0)},
	}
	for _, m := range modes {
		b.Run(m.name, func(b *testing.B) {
			url := imagesvctest.Serve(b, m.authn)
			code, img := call(b, url, http.MethodPost, "/v2/images", tok, map[string]any{"name": "bench"})
			if code != http.StatusCreated {
				b.Fatalf("create: %d %v", code, img)
			}
			path := url + "/v2/images/" + img["id"].(string)
			get(b, path, tok) // warm: the token is validated and cached here
			for b.Loop() {
				get(b, path, tok)
			}
		})
	}
}

func get(b *testing.B, url, tok string) {
	req, _ := http.NewRequest(http.MethodGet, url, nil)
	req.Header.Set("X-Auth-Token", tok)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		b.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body) // so the connection is reused
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b.Fatalf("GET %s: %d", url, resp.StatusCode)
	}
}

// BenchmarkKeystoneAuthenticateCached is the whole cost --auth keystone
// adds to a request whose token is cached: a hash and a map lookup.
func BenchmarkKeystoneAuthenticateCached(b *testing.B) {
	k, w := sharedKeystone(b)
	u := w.users[auth.Member]
	tok := token(b, k, ostest.TokenRequest{User: u.Name, Password: u.Password, ProjectID: w.p1})
	a := validator(b, k, w, 0)
	ctx := context.Background()
	if _, err := a.Authenticate(ctx, tok); err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if _, err := a.Authenticate(ctx, tok); err != nil {
			b.Fatal(err)
		}
	}
}
