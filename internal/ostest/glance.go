// A throwaway real Glance (glance-api with the RBD store) for tests. The
// packaged paste pipeline in /etc/glance is the one thing read from /etc;
// it is copied into the Glance's own directory.

package ostest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cowdisk/cowdisk/internal/bench/procs"
	"github.com/cowdisk/cowdisk/internal/testmode"
)

// Glance binaries and the paste pipeline from Debian's glance-api package.
const (
	glanceAPI    = "/usr/bin/glance-api"
	glanceManage = "/usr/bin/glance-manage"
	glancePaste  = "/etc/glance/glance-api-paste.ini"
)

// Bounds of each step; glance-api takes ~8 s and db_sync ~4 s on an idle
// machine, several times that on a busy one.
const (
	glanceSyncIn  = 2 * time.Minute
	glanceReadyIn = 2 * time.Minute
	glanceStopIn  = 15 * time.Second
)

// GlanceAuth is how a Glance authenticates callers.
type GlanceAuth int

const (
	// GlanceNoAuth is the packaged default pipeline (unauthenticated-context):
	// every caller is admin and images have no owner.
	GlanceNoAuth GlanceAuth = iota
	// GlanceHeaders takes the caller from the headers keystonemiddleware
	// would set (see Glance.Headers), without a Keystone.
	GlanceHeaders
	// GlanceKeystone validates tokens against a real Keystone
	// (GlanceOptions.Keystone).
	GlanceKeystone
)

// GlanceKeystoneAuth is the service identity Glance's keystonemiddleware
// uses to validate tokens.
type GlanceKeystoneAuth struct {
	URL                string // identity v3 endpoint, http://127.0.0.1:PORT/v3
	Username, Password string
	Project            string // project name of the service user
	Domain             string // domain id of user and project ("default" when empty)
}

// GlanceOptions describe a Glance with the RBD store.
type GlanceOptions struct {
	CephConf string // the cluster's ceph.conf; it must name its keyring
	CephUser string // without "client." (default admin)
	Pool     string // RBD store pool (default images)
	Auth     GlanceAuth
	Keystone GlanceKeystoneAuth // with GlanceKeystone
}

// Glance is a running glance-api.
type Glance struct {
	Dir  string // config, SQLite, staging, logs
	URL  string // http://127.0.0.1:PORT (no /v2)
	Pool string

	conf string
	proc *procs.Proc
}

// StartGlance starts a Glance for t and stops it in t.Cleanup. A missing
// package fails the test: it never skips, except in a unit run (-short),
// which starts nothing.
func StartGlance(t testing.TB, o GlanceOptions) *Glance {
	t.Helper()
	testmode.Needs(t, "a Glance")
	ctx, cancel := context.WithTimeout(context.Background(), glanceSyncIn+glanceReadyIn)
	defer cancel()
	g, err := NewGlance(ctx, t.TempDir(), o)
	if err != nil {
		t.Fatalf("glance: %v", err)
	}
	t.Cleanup(func() {
		if err := g.Stop(); err != nil {
			t.Errorf("glance stop: %v", err)
		}
	})
	return g
}

// NewGlance configures a Glance in dir (which must exist), makes its
// database and starts it. The caller must call Stop; a package sharing one
// Glance between tests starts it from TestMain this way.
func NewGlance(ctx context.Context, dir string, o GlanceOptions) (*Glance, error) {
	for _, b := range []string{glanceAPI, glanceManage, glancePaste} {
		if _, err := os.Stat(b); err != nil {
			return nil, fmt.Errorf("%s missing (apt-get install glance-api): %w", b, err)
		}
	}
	if o.CephConf == "" {
		return nil, errors.New("glance: no ceph.conf given")
	}
	addr, err := procs.FreeAddr()
	if err != nil {
		return nil, err
	}
	if o.Pool == "" {
		o.Pool = "images"
	}
	g := &Glance{Dir: dir, URL: "http://" + addr, Pool: o.Pool, conf: filepath.Join(dir, "glance-api.conf")}
	if err := g.writeConfig(o, addr); err != nil {
		return nil, err
	}
	if err := g.dbSync(ctx); err != nil {
		return nil, err
	}
	if err := g.start(ctx); err != nil {
		return nil, err
	}
	return g, nil
}

// dbSync makes the SQLite schema.
func (g *Glance) dbSync(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, glanceSyncIn)
	defer cancel()
	cmd := exec.CommandContext(ctx, glanceManage, "--config-file", g.conf, "db_sync")
	cmd.Env = g.env()
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("glance-manage db_sync: %w: %s", err, bytes.TrimSpace(out.Bytes()))
	}
	return nil
}

// env is the children's environment: HOME in Dir, so nothing reads or
// writes the caller's home.
func (g *Glance) env() []string {
	return append(os.Environ(), "HOME="+filepath.Join(g.Dir, "home"))
}

// start runs glance-api and waits until its healthcheck answers; the
// healthcheck filter comes before authentication in every pipeline.
func (g *Glance) start(ctx context.Context) error {
	p, err := procs.Start("glance-api", glanceAPI, []string{"--config-file", g.conf},
		[]string{"HOME=" + filepath.Join(g.Dir, "home")}, filepath.Join(g.Dir, "glance-api.out"))
	if err != nil {
		return err
	}
	g.proc = p
	ctx, cancel := context.WithTimeout(ctx, glanceReadyIn)
	defer cancel()
	if err := p.WaitHTTP(ctx, g.URL+"/healthcheck"); err != nil {
		return errors.Join(fmt.Errorf("%w: %s", err, g.LogTail()), g.Stop())
	}
	return nil
}

// Headers are the identity headers keystonemiddleware would set for a
// caller of project with roles; GlanceHeaders takes the caller from them.
func (g *Glance) Headers(project string, roles ...string) http.Header {
	h := http.Header{}
	h.Set("X-Identity-Status", "Confirmed")
	h.Set("X-Project-Id", project)
	h.Set("X-Tenant-Id", project)
	h.Set("X-User-Id", project+"-user")
	h.Set("X-Roles", strings.Join(roles, ","))
	return h
}

// Stop ends glance-api by its pid (SIGTERM, then a kill after
// glanceStopIn) and waits for it. Calling it again is harmless.
func (g *Glance) Stop() error {
	if g.proc == nil {
		return nil
	}
	p := g.proc
	g.proc = nil
	return p.Stop(glanceStopIn)
}

// PID is the glance-api process id (0 once stopped).
func (g *Glance) PID() int {
	if g.proc == nil {
		return 0
	}
	return g.proc.PID()
}

// LogTail is the end of glance-api's log, to say why something failed.
func (g *Glance) LogTail() string {
	return procs.Tail(filepath.Join(g.Dir, "glance-api.log"), 30)
}

// CallJSON sends one request to a JSON HTTP API (a Glance, or a service
// shaped like one) with headers h and decodes a 2xx answer into out (when
// not nil). A non-2xx answer is an error quoting the body; the status is
// returned either way (0 when there was no answer). Bodies are read up to
// 1 MiB.
func CallJSON(ctx context.Context, h http.Header, method, url, ctype string, body []byte, out any) (int, error) {
	req, err := http.NewRequestWithContext(ctx, method, url, bytes.NewReader(body))
	if err != nil {
		return 0, err
	}
	req.Header = h.Clone()
	if req.Header == nil {
		req.Header = http.Header{}
	}
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return resp.StatusCode, err
	}
	if resp.StatusCode >= 300 {
		return resp.StatusCode, fmt.Errorf("%s %s: %d %s", method, url, resp.StatusCode, bytes.TrimSpace(b))
	}
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			return resp.StatusCode, fmt.Errorf("%s %s: %w: %s", method, url, err, b)
		}
	}
	return resp.StatusCode, nil
}
