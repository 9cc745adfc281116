package servecmd

import (
	"context"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/spf13/pflag"

	"github.com/cowdisk/cowdisk/internal/imagesvc"
	"github.com/cowdisk/cowdisk/internal/imagesvc/auth"
)

// TestImagesKeystoneFlags: --auth keystone takes the service's credentials
// from OS_*, from a clouds.yaml entry (flag or env), and refuses to start
// without any; other modes carry no Keystone config.
func TestImagesKeystoneFlags(t *testing.T) {
	dir := t.TempDir()
	clouds := filepath.Join(dir, "clouds.yaml")
	os.WriteFile(clouds, []byte(`clouds:
  glance:
    auth:
      auth_url: http://127.0.0.1:5000/v3
      username: glance
      password: from-yaml
      project_name: service
      user_domain_id: default
      project_domain_id: default
`), 0o600)
	openrc := map[string]string{"OS_AUTH_URL": "http://127.0.0.1:5001/v3", "OS_USERNAME": "glance",
		"OS_PASSWORD": "from-env", "OS_PROJECT_NAME": "service", "OS_USER_DOMAIN_ID": "default"}
	for _, tc := range []struct {
		name string
		env  map[string]string
		args []string
		want func(imagesvc.Config) bool
		err  string
	}{
		{"openrc", openrc, []string{"--auth", "keystone", "--keystone-timeout", "2s"}, func(c imagesvc.Config) bool {
			k := c.Keystone
			return k != nil && k.Auth.IdentityEndpoint == openrc["OS_AUTH_URL"] && k.Auth.Password == "from-env" &&
				k.Auth.Scope.ProjectName == "service" && k.Timeout == 2*time.Second
		}, ""},
		{"clouds.yaml by flag", openrc, []string{"--auth", "keystone", "--os-cloud", "glance", "--os-clouds-file", clouds},
			func(c imagesvc.Config) bool {
				return c.Keystone != nil && c.Keystone.Auth.Password == "from-yaml"
			}, ""},
		{"clouds.yaml by env", map[string]string{"OS_CLOUD": "glance", "OS_CLIENT_CONFIG_FILE": clouds,
			"COWDISK_IMAGES_AUTH": "keystone", "COWDISK_IMAGES_TOKEN_CACHE_SIZE": "7"}, nil,
			func(c imagesvc.Config) bool {
				return c.Keystone != nil && c.Keystone.Auth.Password == "from-yaml" && c.Keystone.CacheSize == 7
			}, ""},
		{"none needs no keystone", openrc, nil, func(c imagesvc.Config) bool { return c.Keystone == nil }, ""},
		{"no credentials", map[string]string{"OS_AUTH_URL": "", "OS_CLOUD": ""}, []string{"--auth", "keystone"}, nil,
			"OS_AUTH_URL"},
		{"unknown cloud", nil, []string{"--auth", "keystone", "--os-cloud", "nope", "--os-clouds-file", clouds}, nil,
			"nope"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for k, v := range tc.env {
				t.Setenv(k, v)
			}
			got, err := imagesConfigOf(append([]string{"--data-dir", dir}, tc.args...))
			switch {
			case tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)):
				t.Fatalf("err %v, want one mentioning %q", err, tc.err)
			case tc.err == "" && (err != nil || !tc.want(got)):
				t.Fatalf("%v %+v", err, got)
			}
		})
	}
}

// imagesConfigOf is the config `serve images args` would run with.
func imagesConfigOf(args []string) (imagesvc.Config, error) {
	var got imagesvc.Config
	c := imagesCommand(func(_ context.Context, cfg imagesvc.Config) error { got = cfg; return nil })
	c.SetArgs(args)
	err := c.Execute()
	return got, err
}

// TestNodeKeystoneWanted: the node agent logs in to Keystone only without
// a fixed token and with credentials named somewhere.
func TestNodeKeystoneWanted(t *testing.T) {
	for _, tc := range []struct {
		name  string
		env   map[string]string
		args  []string
		token string
		want  bool
	}{
		{"nothing", nil, nil, "", false},
		{"openrc", map[string]string{"OS_AUTH_URL": "http://127.0.0.1:1/v3"}, nil, "", true},
		{"OS_CLOUD", map[string]string{"OS_CLOUD": "x"}, nil, "", true},
		{"--os-cloud", nil, []string{"--os-cloud", "x"}, "", true},
		{"fixed token wins", map[string]string{"OS_AUTH_URL": "http://127.0.0.1:1/v3"}, nil, "tok", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv("OS_AUTH_URL", "")
			t.Setenv("OS_CLOUD", "")
			for k, v := range tc.env {
				t.Setenv(k, v)
			}
			fs := pflag.NewFlagSet("node", pflag.ContinueOnError)
			k := &nodeKeystone{}
			k.register(fs)
			if err := fs.Parse(tc.args); err != nil {
				t.Fatal(err)
			}
			if got := k.wanted(tc.token); got != tc.want {
				t.Fatalf("wanted = %v, want %v", got, tc.want)
			}
		})
	}
	var none *nodeKeystone
	if none.wanted("") {
		t.Fatal("nil nodeKeystone wants keystone")
	}
}

// TestImagesKeystoneWiring: `serve images --auth keystone` puts the
// validator in front of the API. With nothing listening at the auth URL
// (Keystone down), a request is 503 naming keystone, never 401.
func TestImagesKeystoneWiring(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	authURL := "http://" + l.Addr().String() + "/v3"
	l.Close() // a port where nothing answers
	t.Setenv("OS_CLOUD", "")
	for k, v := range map[string]string{"OS_AUTH_URL": authURL, "OS_USERNAME": "glance", "OS_PASSWORD": "pw",
		"OS_PROJECT_NAME": "service", "OS_USER_DOMAIN_ID": "default", "OS_PROJECT_DOMAIN_ID": "default"} {
		t.Setenv(k, v)
	}
	cfg, err := imagesConfigOf([]string{"--data-dir", t.TempDir(), "--auth", "keystone", "--listen", "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	s, err := imagesvc.Start(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Shutdown()
	req, _ := http.NewRequest(http.MethodGet, "http://"+s.Addr()+"/v2/images", nil)
	req.Header.Set("X-Auth-Token", "some-token")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusServiceUnavailable || !strings.Contains(string(b), "keystone") {
		t.Fatalf("keystone down: %d %s, want 503 naming keystone", resp.StatusCode, b)
	}
}

// TestNodeKeystoneValidator: the node's credentials also make a validator
// for its own callers; without credentials it is refused by name.
func TestNodeKeystoneValidator(t *testing.T) {
	t.Setenv("OS_CLOUD", "")
	t.Setenv("OS_AUTH_URL", "")
	k := &nodeKeystone{}
	k.register(pflag.NewFlagSet("node", pflag.ContinueOnError))
	if _, err := k.validator(); err == nil || !strings.Contains(err.Error(), "OS_AUTH_URL") {
		t.Fatalf("no credentials: %v", err)
	}
	t.Setenv("OS_AUTH_URL", "http://127.0.0.1:1/v3")
	t.Setenv("OS_USERNAME", "node")
	t.Setenv("OS_PASSWORD", "pw")
	a, err := k.validator()
	if _, ok := a.(*auth.Keystone); err != nil || !ok {
		t.Fatalf("%T %v", a, err)
	}
}
