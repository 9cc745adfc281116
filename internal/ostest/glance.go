// Package ostest runs real OpenStack services (Debian's packages) as
// throwaway child processes for tests: each in its own temp dir, on a free
// loopback port, stopped by pid. Nothing is read from /etc but the
// packaged paste pipeline, which is copied.
package ostest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
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
	cmd  *exec.Cmd
	done chan struct{} // closed once cmd has been waited for
}

// StartGlance starts a Glance for t and stops it in t.Cleanup. A missing
// package fails the test: it never skips.
func StartGlance(t testing.TB, o GlanceOptions) *Glance {
	t.Helper()
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
	port, err := glanceFreePort()
	if err != nil {
		return nil, err
	}
	if o.Pool == "" {
		o.Pool = "images"
	}
	g := &Glance{Dir: dir, URL: "http://" + net.JoinHostPort("127.0.0.1", strconv.Itoa(port)),
		Pool: o.Pool, conf: filepath.Join(dir, "glance-api.conf")}
	if err := g.writeConfig(o, port); err != nil {
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
		return fmt.Errorf("glance-manage db_sync: %w: %s", err, glanceTail(out.Bytes()))
	}
	return nil
}

// env is the children's environment: HOME in Dir, so nothing reads or
// writes the caller's home.
func (g *Glance) env() []string {
	return append(os.Environ(), "HOME="+filepath.Join(g.Dir, "home"))
}

// start runs glance-api and waits until it answers.
func (g *Glance) start(ctx context.Context) error {
	log, err := os.OpenFile(filepath.Join(g.Dir, "glance-api.out"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return err
	}
	defer log.Close()
	cmd := exec.Command(glanceAPI, "--config-file", g.conf)
	cmd.Env = g.env()
	cmd.Stdout, cmd.Stderr = log, log
	// Its own process group, so Stop can end any child it forked.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("glance-api: %w", err)
	}
	g.cmd, g.done = cmd, make(chan struct{})
	go func() { _ = cmd.Wait(); close(g.done) }()
	if err := g.waitReady(ctx); err != nil {
		return errors.Join(err, g.Stop())
	}
	return nil
}

// waitReady polls GET /versions (as admin, so every pipeline lets it
// through) until it answers 200.
func (g *Glance) waitReady(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, glanceReadyIn)
	defer cancel()
	c := &http.Client{Timeout: 2 * time.Second}
	for {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, g.URL+"/versions", nil)
		req.Header = g.Headers("ostest", "admin")
		if resp, err := c.Do(req); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		select {
		case <-g.done:
			return fmt.Errorf("glance-api exited before it answered: %s", g.LogTail())
		case <-ctx.Done():
			return fmt.Errorf("glance-api at %s not ready: %w: %s", g.URL, ctx.Err(), g.LogTail())
		case <-time.After(250 * time.Millisecond):
		}
	}
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

// Stop ends glance-api by its pid (SIGTERM, then SIGKILL to its process
// group after glanceStopIn) and waits for it. Calling it again is harmless.
func (g *Glance) Stop() error {
	if g.cmd == nil {
		return nil
	}
	cmd := g.cmd
	g.cmd = nil
	_ = cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-g.done:
	case <-time.After(glanceStopIn):
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		<-g.done
		return fmt.Errorf("glance-api pid %d ignored SIGTERM for %v; killed", cmd.Process.Pid, glanceStopIn)
	}
	if err := syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL); err != nil && !errors.Is(err, syscall.ESRCH) {
		return fmt.Errorf("glance-api process group %d: %w", cmd.Process.Pid, err)
	}
	return nil
}

// PID is the glance-api process id (0 once stopped).
func (g *Glance) PID() int {
	if g.cmd == nil {
		return 0
	}
	return g.cmd.Process.Pid
}

// LogTail is the end of glance-api's log, to say why something failed.
func (g *Glance) LogTail() string {
	b, _ := os.ReadFile(filepath.Join(g.Dir, "glance-api.log"))
	out, _ := os.ReadFile(filepath.Join(g.Dir, "glance-api.out"))
	return glanceTail(append(b, out...))
}

func glanceTail(b []byte) string {
	const n = 3000
	if len(b) > n {
		b = b[len(b)-n:]
	}
	return string(bytes.TrimSpace(b))
}

func glanceFreePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}
