package agent

import (
	"context"
	"errors"
	"io"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/cowdisk/cowdisk/internal/errs"
	"github.com/cowdisk/cowdisk/internal/imagesvc/auth"
	"github.com/cowdisk/cowdisk/internal/provisioner"
	"github.com/cowdisk/cowdisk/internal/tlsconf"
	"github.com/cowdisk/cowdisk/internal/tlsconf/tlstest"
)

// viewSource is one view of a hostile or honest image service. The agent
// reads the caller's and the service's views at once, so it is locked.
type viewSource struct {
	mu    sync.Mutex
	img   provisioner.Image
	err   error
	calls int
}

func (v *viewSource) Image(context.Context, string) (provisioner.Image, error) {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.calls++
	return v.img, v.err
}

func (v *viewSource) Download(context.Context, string) (io.ReadCloser, error) {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.calls++
	return io.NopCloser(strings.NewReader("data")), v.err
}

func (v *viewSource) set(img provisioner.Image, err error) {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.img, v.err = img, err
}

func (v *viewSource) count() int {
	v.mu.Lock()
	defer v.mu.Unlock()
	return v.calls
}

// read is whether a view must be read: the service's view is read
// alongside the caller's, so when the caller's answer fails the service's
// may or may not have been read by then.
type read int

const (
	never read = iota
	always
	maybe
)

func (r read) ok(calls int) bool { return r == maybe || (r == always) == (calls > 0) }

func TestCallerSource(t *testing.T) {
	asked := provisioner.Image{ID: "img1", Status: "active"}
	other := provisioner.Image{ID: "img2", Status: "active"}
	for _, tc := range []struct {
		name                string
		token               string
		caller, service     *viewSource
		wantCode            int // agent status of the error; 0: success
		callerUsed, svcUsed read
	}{
		{"visible to the caller", "t", &viewSource{img: asked}, &viewSource{img: asked}, 0, always, always},
		{"caller may not see it (404)", "t", &viewSource{err: errs.ErrNotFound}, &viewSource{img: asked}, 404, always, maybe},
		{"caller may not see it (403)", "t", &viewSource{err: errs.ErrPermission}, &viewSource{img: asked}, 404, always, maybe},
		{"caller's view is another image", "t", &viewSource{img: other}, &viewSource{img: asked}, 502, always, maybe},
		{"service's view is another image", "t", &viewSource{img: asked}, &viewSource{img: other}, 502, always, always},
		{"image service down for the caller", "t", &viewSource{err: errs.ErrUnavailable}, &viewSource{img: asked}, 502, always, maybe},
		{"no caller token: service view only", "", &viewSource{err: errs.ErrNotFound}, &viewSource{img: asked}, 0, never, always},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := CallerSource{Service: tc.service, AsCaller: func(token string) (provisioner.ImageSource, error) {
				if token != tc.token {
					t.Errorf("caller token %q, want %q", token, tc.token)
				}
				return tc.caller, nil
			}}
			ctx := withCaller(context.Background(), caller{p: auth.Principal{Project: "p"}, token: tc.token})
			img, err := s.Image(ctx, "img1")
			code := 0
			switch {
			case errors.Is(err, errs.ErrNotFound):
				code = 404
			case err != nil: // the provisioner's lookup marks every other failure so
				code, _ = status(&provisioner.ImageServiceError{Err: err})
			case img.ID != "img1":
				t.Fatalf("answered %+v", img)
			}
			if code != tc.wantCode {
				t.Fatalf("%v: status %d, want %d", err, code, tc.wantCode)
			}
			if !tc.callerUsed.ok(tc.caller.count()) || !tc.svcUsed.ok(tc.service.count()) {
				t.Fatalf("caller view read %d times, service view %d times", tc.caller.count(), tc.service.count())
			}
		})
	}
}

// The CLI's client reaches an https agent when it trusts the agent's CA
// (--cacert) and is refused otherwise.
func TestClientTLS(t *testing.T) {
	ca, other := tlstest.NewCA(t, "agent-ca"), tlstest.NewCA(t, "other-ca")
	cert, key := ca.Issue(t, "agent")
	srv := httptest.NewUnstartedServer(stopAtEnd(t, New(&fakeBackend{}, quiet())))
	var err error
	if srv.TLS, err = tlsconf.Server(cert, key); err != nil {
		t.Fatal(err)
	}
	srv.StartTLS()
	defer srv.Close()
	ctx := context.Background()
	if _, err := (&Client{Base: srv.URL, CACert: ca.File}).ListDisks(ctx, ""); err != nil {
		t.Fatalf("trusting the CA: %v", err)
	}
	for name, c := range map[string]*Client{"other CA": {Base: srv.URL, CACert: other.File}, "system roots": {Base: srv.URL}} {
		_, err := c.ListDisks(ctx, "")
		var ae *APIError
		if err == nil || errors.As(err, &ae) || !strings.Contains(err.Error(), "certificate") {
			t.Errorf("%s: %v, want a certificate error", name, err)
		}
	}
	if _, err := (&Client{Base: srv.URL, CACert: cert + ".missing"}).ListDisks(ctx, ""); err == nil {
		t.Error("missing CA file: no error")
	}
}

// tokenBackend remembers the caller token Create was given.
type tokenBackend struct {
	fakeBackend
	token string
}

func (b *tokenBackend) Get(context.Context, string, string) (provisioner.Disk, error) {
	return provisioner.Disk{}, errs.ErrNotFound
}

func (b *tokenBackend) Create(ctx context.Context, r provisioner.Request) (provisioner.Disk, error) {
	c, _ := callerFrom(ctx)
	b.token = c.token
	return provisioner.Disk{InstanceID: r.InstanceID, Name: "disk", Owner: r.Owner}, nil
}

// With auth none a token is not checked, so it is not forwarded either;
// with tokens the checked token reaches the image lookup.
func TestCallerTokenForwarded(t *testing.T) {
	tokens, err := auth.NewTokens([]auth.TokenEntry{{Token: "tok", Project: "p1", Roles: []string{auth.Member}}})
	if err != nil {
		t.Fatal(err)
	}
	for name, tc := range map[string]struct {
		a     auth.Authenticator
		token string
		owner string
	}{"none": {auth.None{Project: "solo"}, "", "solo"}, "tokens": {tokens, "tok", "p1"}} {
		b := &tokenBackend{}
		srv := httptest.NewServer(stopAtEnd(t, New(b, quiet(), WithAuth(tc.a))))
		d, _, err := (&Client{Base: srv.URL, Token: "tok"}).CreateDisk(context.Background(), CreateRequest{InstanceID: "i1", ImageID: "0f0e0d0c-0b0a-4908-8706-050403020100"})
		srv.Close()
		if err != nil || b.token != tc.token || d.Owner != tc.owner {
			t.Errorf("%s: forwarded %q, owner %q (%v); want %q, %q", name, b.token, d.Owner, err, tc.token, tc.owner)
		}
	}
}
