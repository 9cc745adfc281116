package auth_test

import (
	"context"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/cowdisk/cowdisk/internal/imagesvc/auth"
	"github.com/cowdisk/cowdisk/internal/imagesvc/imagesvctest"
	"github.com/cowdisk/cowdisk/internal/ostest"
)

// BenchmarkKeystoneGetImage: a warm GET /v2/images/{id} with --auth
// keystone (real Keystone, the token already validated and cached) beside
// --auth none. The two servers are asked in turn (alternating which goes first)
// within one loop, so a busy machine slows both alike; the metric keystone/none is the ratio of
// their total times (target ≤ 1.2):
//
//	go test -tags pacific -run '^$' -bench KeystoneGetImage -count 5 ./internal/imagesvc/auth
func BenchmarkKeystoneGetImage(b *testing.B) {
	k, w := sharedKeystone(b)
	u := w.users[auth.Member]
	tok := token(b, k, ostest.TokenRequest{User: u.Name, Password: u.Password, ProjectID: w.p1})
	none := benchImage(b, auth.None{Project: w.p1}, tok)
	ks := benchImage(b, validator(b, k, w, 0), tok)
	var tNone, tKs time.Duration
	timed := func(url string) time.Duration { t0 := time.Now(); get(b, url, tok); return time.Since(t0) }
	for i := 0; b.Loop(); i++ {
		if i%2 == 0 { // each goes first half of the time: no order bias
			tNone += timed(none)
			tKs += timed(ks)
		} else {
			tKs += timed(ks)
			tNone += timed(none)
		}
	}
	n := float64(b.N)
	b.ReportMetric(float64(tNone.Nanoseconds())/n, "ns/get-none")
	b.ReportMetric(float64(tKs.Nanoseconds())/n, "ns/get-keystone")
	b.ReportMetric(float64(tKs)/float64(tNone), "keystone/none")
}

// benchImage serves the API with authn, creates an image and reads it
// once (so a Keystone token is validated and cached); it returns its URL.
func benchImage(b *testing.B, authn auth.Authenticator, tok string) string {
	url := imagesvctest.Serve(b, authn)
	code, img := call(b, url, http.MethodPost, "/v2/images", tok, map[string]any{"name": "bench"})
	if code != http.StatusCreated {
		b.Fatalf("create: %d %v", code, img)
	}
	path := url + "/v2/images/" + img["id"].(string)
	get(b, path, tok)
	return path
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
