package auth

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gophercloud/gophercloud/v2"

	"github.com/cowdisk/cowdisk/internal/errs"
)

// TestKeystoneHangingLogin: a hostile identity service that accepts and
// never answers. Requests that arrive together while the service has no
// token yet make one login between them, and every one is unavailable
// (503), none 401.
func TestKeystoneHangingLogin(t *testing.T) {
	var logins atomic.Int32
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		logins.Add(1)
		<-release
	}))
	defer srv.Close()
	defer close(release)
	k, err := NewKeystone(KeystoneConfig{Timeout: 500 * time.Millisecond, Auth: gophercloud.AuthOptions{
		IdentityEndpoint: srv.URL + "/v3", Username: "glance", Password: "pw", DomainID: "default"}})
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	errc := make(chan error, 4)
	for i := range 4 {
		wg.Go(func() {
			_, err := k.Authenticate(context.Background(), "token-"+string(rune('a'+i)))
			errc <- err
		})
	}
	wg.Wait()
	close(errc)
	for err := range errc {
		if !errors.Is(err, errs.ErrTimeout) {
			t.Errorf("got %v, want a keystone timeout", err)
		}
	}
	if n := logins.Load(); n != 1 {
		t.Fatalf("%d logins for 4 requests queued on one hanging login, want 1", n)
	}
}
