package auth_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gophercloud/gophercloud/v2"

	"github.com/cowdisk/cowdisk/internal/errs"
	"github.com/cowdisk/cowdisk/internal/imagesvc/auth"
	"github.com/cowdisk/cowdisk/internal/ostest"
	"github.com/cowdisk/cowdisk/internal/testmode"
)

// shared is one real Keystone for the tests of this package (setting one
// up costs ~20 s of keystone-manage): started by the first test that asks,
// stopped in TestMain.
var shared struct {
	once  sync.Once
	ks    *ostest.Keystone
	dir   string
	err   error
	world world
}

// world is what the tests use: projects p1 and p2, one user per role on
// p1, a member of p2, and the image service's own user "glance".
type world struct {
	p1, p2  string
	users   map[string]ostest.KeystoneUser // by role on p1; "p2member"
	service ostest.KeystoneUser
}

func TestMain(m *testing.M) {
	code := m.Run()
	if shared.ks != nil {
		if err := shared.ks.Stop(); err != nil {
			fmt.Fprintln(os.Stderr, "keystone stop:", err)
			code = 1
		}
		os.RemoveAll(shared.dir)
	}
	os.Exit(code)
}

func sharedKeystone(t testing.TB) (*ostest.Keystone, world) {
	t.Helper()
	testmode.Needs(t, "a Keystone")
	shared.once.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
		defer cancel()
		if shared.dir, shared.err = os.MkdirTemp("", "auth-keystone-"); shared.err != nil {
			return
		}
		if shared.ks, shared.err = ostest.NewKeystone(ctx, shared.dir, ostest.KeystoneOptions{}); shared.err != nil {
			return
		}
		shared.world, shared.err = makeWorld(ctx, shared.ks)
	})
	if shared.err != nil {
		t.Fatalf("keystone: %v", shared.err)
	}
	if !shared.ks.Running() { // a test that stopped it failed before restarting it
		t.Fatal("the shared keystone is stopped")
	}
	return shared.ks, shared.world
}

func makeWorld(ctx context.Context, k *ostest.Keystone) (world, error) {
	w := world{users: map[string]ostest.KeystoneUser{}}
	var err error
	if w.p1, err = k.CreateProject(ctx, "p1"); err != nil {
		return w, err
	}
	if w.p2, err = k.CreateProject(ctx, "p2"); err != nil {
		return w, err
	}
	for _, role := range []string{auth.Admin, auth.Member, auth.Reader, auth.Service} {
		if w.users[role], err = k.CreateUser(ctx, "u-"+role, "pw-"+role, w.p1, "p1", role); err != nil {
			return w, err
		}
	}
	if w.users["p2member"], err = k.CreateUser(ctx, "u-p2", "pw-p2", w.p2, "p2", auth.Member); err != nil {
		return w, err
	}
	// Keystone lets only a user with a role on a domain ask for a token
	// scoped to it: the admin gets one on "default".
	if err := k.AssignDomainRole(ctx, w.users[auth.Admin].ID, "default", auth.Admin); err != nil {
		return w, err
	}
	svcProject, err := k.CreateProject(ctx, "service")
	if err != nil {
		return w, err
	}
	w.service, err = k.CreateUser(ctx, "glance", "glance-pw", svcProject, "service", auth.Service)
	return w, err
}

// validator is a Keystone authenticator logged in as the service user.
func validator(t testing.TB, k *ostest.Keystone, w world, timeout time.Duration) *auth.Keystone {
	t.Helper()
	a, err := auth.NewKeystone(auth.KeystoneConfig{Timeout: timeout, Auth: gophercloud.AuthOptions{
		IdentityEndpoint: k.URL, Username: w.service.Name, Password: w.service.Password, DomainID: "default",
		Scope: &gophercloud.AuthScope{ProjectID: w.service.ProjectID}}})
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func token(t testing.TB, k *ostest.Keystone, r ostest.TokenRequest) string {
	t.Helper()
	tok, err := k.Token(context.Background(), r)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// TestKeystoneAuthenticate: each role's token maps to its project and
// role; tokens that are not project-scoped, unknown, revoked or too long
// are refused with the sentinel that makes their HTTP code.
func TestKeystoneAuthenticate(t *testing.T) {
	ctx := context.Background()
	k, w := sharedKeystone(t)
	a := validator(t, k, w, 0)
	for _, role := range []string{auth.Admin, auth.Member, auth.Reader, auth.Service} {
		u := w.users[role]
		tok := token(t, k, ostest.TokenRequest{User: u.Name, Password: u.Password, ProjectID: w.p1})
		for range 2 { // the second answer comes from the cache
			p, err := a.Authenticate(ctx, tok)
			if err != nil || p.Project != w.p1 || !p.Has(role) {
				t.Fatalf("%s: %+v %v", role, p, err)
			}
		}
	}
	u := w.users[auth.Member]
	revoked := token(t, k, ostest.TokenRequest{User: u.Name, Password: u.Password, ProjectID: w.p1})
	if err := k.RevokeToken(ctx, revoked); err != nil {
		t.Fatal(err)
	}
	adm := w.users[auth.Admin]
	cases := []struct {
		name, token string
		want        error
		msg         string
	}{
		{"no token", "", errs.ErrPermission, "no X-Auth-Token"},
		{"garbage", "gAAAAABnotatoken", errs.ErrPermission, "unknown"},
		{"revoked", revoked, errs.ErrPermission, "revoked"},
		{"too long", strings.Repeat("x", auth.MaxTokenLength+1), errs.ErrPermission, "at most"},
		{"unscoped", token(t, k, ostest.TokenRequest{User: u.Name, Password: u.Password}), errs.ErrPermission, "unscoped"},
		{"domain-scoped", token(t, k, ostest.TokenRequest{User: adm.Name, Password: adm.Password, DomainID: "default"}),
			errs.ErrRefused, "domain"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			for range 2 { // refusals are cached too, with the same error
				_, err := a.Authenticate(ctx, c.token)
				if !errors.Is(err, c.want) || !strings.Contains(err.Error(), c.msg) {
					t.Fatalf("got %v, want %v mentioning %q", err, c.want, c.msg)
				}
			}
		})
	}
}

// TestKeystoneBadServiceCredentials: a service whose own login is refused
// answers unavailable (the operator must act), not 401 to the caller.
func TestKeystoneBadServiceCredentials(t *testing.T) {
	k, w := sharedKeystone(t)
	w.service.Password = "wrong"
	a := validator(t, k, w, 0)
	u := w.users[auth.Member]
	_, err := a.Authenticate(context.Background(), token(t, k, ostest.TokenRequest{User: u.Name, Password: u.Password,
		ProjectID: w.p1}))
	if !errors.Is(err, errs.ErrUnavailable) || !strings.Contains(err.Error(), "credentials") {
		t.Fatalf("got %v, want unavailable naming the credentials", err)
	}
}

// TestKeystoneConfig: bad configurations are refused before any call.
func TestKeystoneConfig(t *testing.T) {
	cases := []struct {
		name string
		ao   gophercloud.AuthOptions
	}{
		{"no url", gophercloud.AuthOptions{Username: "u", Password: "p"}},
		{"no secret", gophercloud.AuthOptions{IdentityEndpoint: "http://127.0.0.1:1/v3", Username: "u"}},
		{"bad url", gophercloud.AuthOptions{IdentityEndpoint: "ftp://x/v3", Username: "u", Password: "p"}},
	}
	for _, c := range cases {
		if _, err := auth.NewKeystone(auth.KeystoneConfig{Auth: c.ao}); !errors.Is(err, errs.ErrInvalid) {
			t.Errorf("%s: %v", c.name, err)
		}
	}
}
