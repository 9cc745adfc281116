package imageclient

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gophercloud/gophercloud/v2"

	"github.com/cowdisk/cowdisk/internal/errs"
	"github.com/cowdisk/cowdisk/internal/imagesvc/auth"
	"github.com/cowdisk/cowdisk/internal/imagesvc/imagesvctest"
	"github.com/cowdisk/cowdisk/internal/ostest"
)

// tokenLifetime is [token] expiration of the test Keystone: short, so the
// renewal test waits past it; long enough for any call in between.
const tokenLifetime = 30

// keystoneWorld is a real Keystone with tokens of tokenLifetime seconds,
// cowdisk's image service validating with it, and its endpoint in the
// catalog; alice is a member of p1 and ac her application credential.
type keystoneWorld struct {
	k     *ostest.Keystone
	url   string // the image service
	p1    string
	alice ostest.KeystoneUser
	ac    ostest.AppCredential
	log   *lockedBuffer // the image service's validator logs here
}

// lockedBuffer is a log sink safe for concurrent handlers.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func startKeystoneWorld(t *testing.T) keystoneWorld {
	ctx := context.Background()
	k := ostest.StartKeystone(t, ostest.KeystoneOptions{TokenExpiration: tokenLifetime})
	w := keystoneWorld{k: k, log: &lockedBuffer{}}
	w.p1 = must(k.CreateProject(ctx, "p1"))
	w.alice = must(k.CreateUser(ctx, "alice", "alice-pw", w.p1, "p1", auth.Member))
	w.ac = must(k.CreateAppCredential(ctx, w.alice, "alice-ac"))
	svcProject := must(k.CreateProject(ctx, "service"))
	glance := must(k.CreateUser(ctx, "glance", "glance-pw", svcProject, "service", auth.Service))
	validator := must(auth.NewKeystone(auth.KeystoneConfig{Auth: gophercloud.AuthOptions{
		IdentityEndpoint: k.URL, Username: glance.Name, Password: glance.Password, DomainID: "default",
		Scope: &gophercloud.AuthScope{ProjectID: svcProject}}, Logger: slog.New(slog.NewTextHandler(w.log, nil))}))
	w.url = imagesvctest.Serve(t, validator)
	if err := k.AddImageService(ctx, w.url); err != nil {
		t.Fatal(err)
	}
	return w
}

func setenv(t *testing.T, env map[string]string) {
	for k, v := range env {
		t.Setenv(k, v)
	}
}

// createOwned creates an image with c and checks its owner is project.
func createOwned(t *testing.T, c Client, name, project string) {
	t.Helper()
	img, err := c.Create(context.Background(), CreateOptions{Name: name})
	if err != nil || img.Owner != project {
		t.Fatalf("create %s: %+v %v", name, img, err)
	}
}

// TestKeystone logs in to a real Keystone in each way a node or the CLI
// can, finds the image service in the catalog, and keeps working past the
// token's expiry by renewing it beforehand.
func TestKeystone(t *testing.T) {
	ctx := context.Background()
	w := startKeystoneWorld(t)
	t.Run("openrc password, catalog", func(t *testing.T) {
		setenv(t, w.alice.Env())
		if !KeystoneConfigured() {
			t.Fatal("OS_AUTH_URL not seen")
		}
		c := must(NewFromKeystone(ctx, "", Options{}))
		if got := EndpointOf(c); got != w.url+"/" {
			t.Fatalf("endpoint from the catalog: %q, want %q", got, w.url+"/")
		}
		createOwned(t, c, "env-catalog", w.p1)
		createOwned(t, must(NewFromKeystone(ctx, w.url+"/v2", Options{})), "env-given", w.p1)
	})
	t.Run("openrc application credential", func(t *testing.T) {
		t.Setenv("OS_AUTH_URL", w.k.URL)
		t.Setenv("OS_APPLICATION_CREDENTIAL_ID", w.ac.ID)
		t.Setenv("OS_APPLICATION_CREDENTIAL_SECRET", w.ac.Secret)
		t.Setenv("OS_AUTH_TYPE", "v3applicationcredential")
		createOwned(t, must(NewFromKeystone(ctx, "", Options{})), "env-ac", w.p1)
	})
	t.Run("clouds.yaml", func(t *testing.T) {
		path := must(w.k.WriteCloudsYAML(t.TempDir(), map[string]ostest.KeystoneUser{"pw": w.alice},
			map[string]ostest.AppCredential{"ac": w.ac}))
		for _, cloud := range []string{"pw", "ac"} {
			createOwned(t, must(NewKeystone(ctx, KeystoneOptions{Cloud: cloud, CloudsFile: path}, Options{})),
				"cloud-"+cloud, w.p1)
		}
		t.Setenv("OS_CLOUD", "ac") // as the openstack CLI reads it
		t.Setenv("OS_CLIENT_CONFIG_FILE", path)
		createOwned(t, must(NewFromKeystone(ctx, "", Options{})), "os-cloud", w.p1)
	})
	t.Run("refusals", func(t *testing.T) { keystoneRefusals(t, w) })
	t.Run("renewed before expiry", func(t *testing.T) { renewedBeforeExpiry(t, w) })
}

func keystoneRefusals(t *testing.T, w keystoneWorld) {
	ctx := context.Background()
	setenv(t, w.alice.Env())
	cases := []struct {
		name string
		ko   KeystoneOptions
		pw   string
		want error
	}{
		{"wrong password", KeystoneOptions{}, "wrong", errs.ErrPermission},
		{"no internal endpoint", KeystoneOptions{Interface: "internal"}, w.alice.Password, errs.ErrNotFound},
		{"no such region", KeystoneOptions{Region: "Mars"}, w.alice.Password, errs.ErrNotFound},
		{"bad interface", KeystoneOptions{Interface: "sideways"}, w.alice.Password, errs.ErrInvalid},
		{"no such cloud", KeystoneOptions{Cloud: "nope", CloudsFile: "/nonexistent/clouds.yaml"}, w.alice.Password,
			errs.ErrInvalid},
	}
	for _, c := range cases {
		t.Setenv("OS_PASSWORD", c.pw)
		if _, err := NewKeystone(ctx, c.ko, Options{}); !errors.Is(err, c.want) {
			t.Errorf("%s: %v, want %v", c.name, err, c.want)
		}
	}
}

// statusCounter counts the image service's 401 answers.
type statusCounter struct {
	next         http.RoundTripper
	host         string
	unauthorized atomic.Int32
}

func (s *statusCounter) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := s.next.RoundTrip(r)
	if err == nil && r.URL.Host == s.host && resp.StatusCode == http.StatusUnauthorized {
		s.unauthorized.Add(1)
	}
	return resp, err
}

// renewedBeforeExpiry uses one client across more than a token lifetime:
// every call works, and the image service never answered 401 (which an
// expired token gets, and after which gophercloud alone would renew).
func renewedBeforeExpiry(t *testing.T, w keystoneWorld) {
	ctx := context.Background()
	setenv(t, w.alice.Env())
	counter := &statusCounter{next: http.DefaultTransport, host: strings.TrimPrefix(w.url, "http://")}
	c := must(NewFromKeystone(ctx, "", Options{HTTPClient: &http.Client{Transport: counter}}))
	first := c.(*glance).sc.ProviderClient.Token()
	deadline := time.Now().Add((tokenLifetime + 5) * time.Second)
	for i := 0; time.Now().Before(deadline); i++ {
		if _, err := c.List(ctx, ListOptions{}); err != nil {
			t.Fatalf("call %d: %v", i, err)
		}
		time.Sleep(3 * time.Second)
	}
	if n := counter.unauthorized.Load(); n != 0 {
		t.Fatalf("the image service answered 401 %d times: the token was renewed only after it expired", n)
	}
	if c.(*glance).sc.ProviderClient.Token() == first {
		t.Fatal("the token was never renewed")
	}
	// The image service's own token lives as long: it was renewed too, and
	// never refused by Keystone (which would mean renewed only after expiry).
	log := w.log.String()
	if n := strings.Count(log, "keystone service token renewed"); n < 2 || strings.Contains(log, "refused the service token") {
		t.Fatalf("service token logins: %d (want 2 or more), log:\n%s", n, log)
	}
}

// TestKeystoneCredentials reads testdata/clouds.yaml and the OS_*
// variables into logins and catalog choices; flags override both.
func TestKeystoneCredentials(t *testing.T) {
	t.Setenv("OS_CLOUD", "")
	t.Setenv("OS_REGION_NAME", "")
	t.Setenv("OS_INTERFACE", "")
	for _, tc := range []struct {
		name string
		env  map[string]string
		ko   KeystoneOptions
		want func(gophercloud.AuthOptions, gophercloud.EndpointOpts) bool
	}{
		{"password cloud", nil, KeystoneOptions{Cloud: "node-password", CloudsFile: "testdata/clouds.yaml"},
			func(ao gophercloud.AuthOptions, eo gophercloud.EndpointOpts) bool {
				return ao.Username == "cowdisk-node" && ao.Password == "node-secret" && ao.Scope.ProjectName == "service" &&
					ao.Scope.DomainName == "Default" && eo.Region == "RegionOne" && eo.Availability == gophercloud.AvailabilityInternal
			}},
		{"appcred cloud by env, region flag", map[string]string{"OS_CLOUD": "node-appcred",
			"OS_CLIENT_CONFIG_FILE": "testdata/clouds.yaml"}, KeystoneOptions{Region: "RegionThree"},
			func(ao gophercloud.AuthOptions, eo gophercloud.EndpointOpts) bool {
				return ao.ApplicationCredentialID == "0123456789abcdef" && ao.ApplicationCredentialSecret == "appcred-secret" &&
					eo.Region == "RegionThree" && eo.Availability == gophercloud.AvailabilityPublic
			}},
		{"openrc, interface flag", map[string]string{"OS_AUTH_URL": "http://127.0.0.1:1/v3", "OS_USERNAME": "u",
			"OS_PASSWORD": "p", "OS_PROJECT_ID": "pid", "OS_INTERFACE": "internalURL"}, KeystoneOptions{Interface: "admin"},
			func(ao gophercloud.AuthOptions, eo gophercloud.EndpointOpts) bool {
				return ao.Username == "u" && ao.Scope.ProjectID == "pid" && eo.Availability == gophercloud.AvailabilityAdmin
			}},
		{"openrc interface", map[string]string{"OS_AUTH_URL": "http://127.0.0.1:1/v3", "OS_INTERFACE": "internalURL"},
			KeystoneOptions{}, func(_ gophercloud.AuthOptions, eo gophercloud.EndpointOpts) bool {
				return eo.Availability == gophercloud.AvailabilityInternal
			}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			setenv(t, tc.env)
			ao, eo, err := tc.ko.Credentials()
			if err != nil || !tc.want(ao, eo) {
				t.Fatalf("%v\n%+v\n%+v", err, ao, eo)
			}
		})
	}
}
