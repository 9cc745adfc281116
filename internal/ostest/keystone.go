// Package ostest runs real OpenStack services (Debian's packages) as
// throwaway child processes for tests: each in its own temp dir, on a free
// loopback port, stopped by pid. Nothing is read from /etc.
package ostest

import (
	"bytes"
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/base64"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	_ "modernc.org/sqlite" // for walMode

	"github.com/cowdisk/cowdisk/internal/backoff"
	"github.com/cowdisk/cowdisk/internal/bench/procs"
	"github.com/cowdisk/cowdisk/internal/testmode"
)

// Keystone binaries from Debian's keystone and uwsgi-plugin-python3 packages.
const (
	keystoneManage = "/usr/bin/keystone-manage"
	keystoneWSGI   = "/usr/bin/keystone-wsgi-public"
	uwsgiBin       = "/usr/bin/uwsgi"
)

// Bootstrap names, as keystone-manage bootstrap makes them.
const (
	KeystoneAdmin   = "admin" // user and project
	KeystoneRegion  = "RegionOne"
	KeystoneDomain  = "default" // domain id
	keystoneReadyIn = 60 * time.Second
	keystoneStopIn  = 15 * time.Second
)

// KeystoneOptions tune a Keystone before it starts.
type KeystoneOptions struct {
	// TokenExpiration is [token] expiration in seconds (0: Keystone's 3600).
	// Keystone accepts any value from 0; a few seconds makes renewal tests
	// short, but leave room for the slowest call in between.
	TokenExpiration int
}

// Keystone is a running Keystone (identity v3) with an admin user, an admin
// project, a region and its own public endpoint in the catalog.
type Keystone struct {
	Dir           string // everything it writes: config, SQLite, keys, logs
	URL           string // identity endpoint, http://127.0.0.1:PORT/v3
	AdminPassword string
	Region        string

	conf string
	addr string
	exp  time.Duration // [token] expiration

	mu                sync.Mutex
	adminTok          string // cached for AdminToken
	adminTokFetchedAt time.Time
	cmd               *exec.Cmd
	done              chan struct{} // closed when cmd has been waited for
}

// StartKeystone starts a Keystone for t and stops it in t.Cleanup. A
// missing package fails the test: it never skips, except in a unit run (-short),
// which starts nothing.
func StartKeystone(t testing.TB, o KeystoneOptions) *Keystone {
	t.Helper()
	testmode.Needs(t, "a Keystone")
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	k, err := NewKeystone(ctx, t.TempDir(), o)
	if err != nil {
		t.Fatalf("keystone: %v", err)
	}
	t.Cleanup(func() {
		if t.Failed() { // the temp dir goes away: show why here
			t.Logf("uwsgi.log: %s", k.logTail())
			b, _ := os.ReadFile(filepath.Join(k.Dir, "keystone.log"))
			t.Logf("keystone.log: %s", tail(b))
		}
		if err := k.Stop(); err != nil {
			t.Errorf("keystone stop: %v", err)
		}
	})
	return k
}

// NewKeystone sets up a Keystone in dir (which must exist and be empty of
// a previous Keystone) and starts it. The caller must call Stop.
func NewKeystone(ctx context.Context, dir string, o KeystoneOptions) (*Keystone, error) {
	for _, b := range []string{keystoneManage, keystoneWSGI, uwsgiBin} {
		if _, err := os.Stat(b); err != nil {
			return nil, fmt.Errorf("%s missing (apt-get install keystone uwsgi-plugin-python3): %w", b, err)
		}
	}
	port, err := procs.FreePort()
	if err != nil {
		return nil, err
	}
	k := &Keystone{Dir: dir, AdminPassword: "admin-" + strconv.Itoa(port), Region: KeystoneRegion,
		conf: filepath.Join(dir, "keystone.conf"), addr: net.JoinHostPort("127.0.0.1", strconv.Itoa(port))}
	k.URL = "http://" + k.addr + "/v3"
	if err := k.writeConfig(o); err != nil {
		return nil, err
	}
	if err := k.setup(ctx); err != nil {
		return nil, err
	}
	if err := k.Start(ctx); err != nil {
		return nil, err
	}
	return k, nil
}

// writeConfig writes a keystone.conf naming only paths under Dir, so
// neither keystone-manage nor the server reads /etc/keystone: the policy
// file and policy dir are given (an empty dir: the built-in defaults).
func (k *Keystone) writeConfig(o KeystoneOptions) error {
	for _, d := range []string{"fernet", "credential", "policy.d", "home"} {
		if err := os.MkdirAll(filepath.Join(k.Dir, d), 0o700); err != nil {
			return err
		}
	}
	exp := o.TokenExpiration
	if exp <= 0 {
		exp = 3600
	}
	k.exp = time.Duration(exp) * time.Second
	p := func(name string) string { return filepath.Join(k.Dir, name) }
	conf := fmt.Sprintf(`[DEFAULT]
log_file = %s
use_stderr = false
[database]
connection = sqlite:///%s
[fernet_tokens]
key_repository = %s
[fernet_receipts]
key_repository = %s
[credential]
key_repository = %s
[token]
expiration = %d
[identity]
# bcrypt's fewest rounds: logins in tests take milliseconds, not 0.3 s.
password_hash_rounds = 4
[oslo_policy]
policy_file = %s
policy_dirs = %s
enforce_scope = false
enforce_new_defaults = false
`, p("keystone.log"), p("keystone.db"), p("fernet"), p("fernet"), p("credential"), exp,
		p("policy.yaml"), p("policy.d"))
	if err := os.WriteFile(k.conf, []byte(conf), 0o600); err != nil {
		return err
	}
	// Keystone's CORS middleware and /healthcheck app load their own
	// config with oslo.config's search path (~/.keystone, ~, /etc/keystone,
	// /etc) and cannot be given a file; with HOME in Dir they find this one
	// before /etc/keystone/keystone.conf (checked with strace).
	home := filepath.Join(k.Dir, "home", "keystone.conf")
	if err := os.Remove(home); err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	return os.Symlink(k.conf, home)
}

// setup makes the database, the keys and the bootstrap admin, project,
// region and identity endpoint.
func (k *Keystone) setup(ctx context.Context) error {
	for _, d := range []string{"fernet", "credential"} {
		if err := writeFernetKeys(filepath.Join(k.Dir, d)); err != nil {
			return err
		}
	}
	if err := k.manage(ctx, "db_sync"); err != nil {
		return err
	}
	if err := walMode(ctx, filepath.Join(k.Dir, "keystone.db")); err != nil {
		return err
	}
	return k.manage(ctx, "bootstrap", "--bootstrap-password", k.AdminPassword, "--bootstrap-region-id", k.Region,
		"--bootstrap-public-url", k.URL)
}

// writeFernetKeys writes what keystone-manage fernet_setup and
// credential_setup would: a staged key "0" and a primary key "1", each 32
// random bytes in URL-safe base64. Written here, they save two Python
// start-ups (seconds each on a busy machine).
func writeFernetKeys(dir string) error {
	for _, name := range []string{"0", "1"} {
		key := make([]byte, 32)
		if _, err := rand.Read(key); err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(dir, name), []byte(base64.URLEncoding.EncodeToString(key)), 0o600); err != nil {
			return fmt.Errorf("fernet key: %w", err)
		}
	}
	return nil
}

// walMode switches the SQLite file to write-ahead logging (a setting kept
// in the file). In the default rollback mode a reader that Keystone leaves
// open on a pooled connection makes the next write fail with "database is
// locked" (seen on POST /v3/services).
func walMode(ctx context.Context, path string) error {
	db, err := sql.Open("sqlite", path)
	if err != nil {
		return err
	}
	defer db.Close()
	if _, err := db.ExecContext(ctx, "PRAGMA journal_mode=WAL"); err != nil {
		return fmt.Errorf("%s: journal_mode=WAL: %w", path, err)
	}
	return nil
}

func (k *Keystone) manage(ctx context.Context, args ...string) error {
	cmd := exec.CommandContext(ctx, keystoneManage, append([]string{"--config-file", k.conf,
		"--config-dir", filepath.Join(k.Dir, "policy.d")}, args...)...)
	cmd.Env = k.env()
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("keystone-manage %s: %w: %s (log: %s)", args[0], err, tail(out.Bytes()),
			filepath.Join(k.Dir, "keystone.log"))
	}
	return nil
}

// env is the children's environment: HOME in Dir so oslo.config finds no
// ~/.keystone, and the config file for the WSGI app.
func (k *Keystone) env() []string {
	return append(os.Environ(), "HOME="+filepath.Join(k.Dir, "home"), "OS_KEYSTONE_CONFIG_FILES="+k.conf)
}

// Start runs the server (again, after Stop) on the same port and waits
// until GET /v3 answers.
func (k *Keystone) Start(ctx context.Context) error {
	if k.cmd != nil {
		return fmt.Errorf("keystone at %s is already running", k.URL)
	}
	log, err := os.OpenFile(filepath.Join(k.Dir, "uwsgi.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return err
	}
	defer log.Close()
	// uwsgi's http-socket closes each connection after the answer without
	// saying so, and Go's client then reuses a dead connection (a POST
	// fails with "connection reset"); "Connection: close" tells it.
	// (http11-socket's keep-alive was tried: some reused POSTs got EOF.)
	// One worker, one thread: tests need no more, and SQLite takes one
	// writer at a time anyway. die-on-term makes SIGTERM a clean stop;
	// no-orphans ends the worker if the master dies; a worker still
	// loading the app is killed after 5 s instead of uwsgi's 60.
	cmd := exec.Command(uwsgiBin, "--plugins", "python3", "--http-socket", k.addr,
		"--add-header", "Connection: close",
		"--wsgi-file", keystoneWSGI, "--master", "--processes", "1", "--threads", "1",
		"--lazy-apps", "--need-app", "--die-on-term", "--no-orphans",
		"--buffer-size", "65535",
		"--worker-reload-mercy", "5", "--chdir", k.Dir)
	cmd.Env = k.env()
	cmd.Stdout, cmd.Stderr = log, log
	// Pdeathsig: a test binary killed (go test's timeout) takes the server
	// with it instead of leaving it on the port.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGTERM}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("uwsgi: %w", err)
	}
	k.cmd, k.done = cmd, make(chan struct{})
	go func() { cmd.Wait(); close(k.done) }()
	if err := k.waitReady(ctx); err != nil {
		k.Stop()
		return err
	}
	return nil
}

func (k *Keystone) waitReady(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, keystoneReadyIn)
	defer cancel()
	c := &http.Client{Timeout: 2 * time.Second}
	err := backoff.Policy{Initial: 200 * time.Millisecond}.Retry(ctx, func(ctx context.Context, _ int) error {
		select {
		case <-k.done:
			return backoff.Permanent(fmt.Errorf("uwsgi exited before keystone answered: %s", k.logTail()))
		default:
		}
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, k.URL, nil)
		resp, err := c.Do(req)
		if err != nil {
			return err
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("%s answered %s", k.URL, resp.Status)
		}
		return nil
	})
	if err != nil && ctx.Err() != nil {
		return fmt.Errorf("keystone at %s not ready: %w: %s", k.URL, err, k.logTail())
	}
	return err
}

// Stop ends the server by its pid (SIGTERM, then SIGKILL to its process
// group) and waits for it. The data stays, so Start can bring it back.
func (k *Keystone) Stop() error {
	if k.cmd == nil {
		return nil
	}
	cmd := k.cmd
	k.cmd = nil
	_ = cmd.Process.Signal(syscall.SIGTERM)
	_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGCONT) // a paused one must run to end
	select {
	case <-k.done:
	case <-time.After(keystoneStopIn):
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		<-k.done
		return fmt.Errorf("uwsgi pid %d ignored SIGTERM for %v; killed", cmd.Process.Pid, keystoneStopIn)
	}
	// The worker dies with the master (no-orphans); make sure of it.
	if err := syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL); err != nil && !errors.Is(err, syscall.ESRCH) {
		return fmt.Errorf("uwsgi process group %d: %w", cmd.Process.Pid, err)
	}
	return nil
}

// Running reports whether the server process is up.
func (k *Keystone) Running() bool { return k.cmd != nil }

func (k *Keystone) logTail() string {
	b, _ := os.ReadFile(filepath.Join(k.Dir, "uwsgi.log"))
	return tail(b)
}

// tail is the end of a log, enough to see why something failed.
func tail(b []byte) string {
	const n = 2000
	if len(b) > n {
		b = b[len(b)-n:]
	}
	return string(bytes.TrimSpace(b))
}

// Pause freezes the server (SIGSTOP to its process group): connections
// are still accepted by the kernel but nothing answers, as a Keystone
// stuck on its database would. Resume undoes it.
func (k *Keystone) Pause() error { return k.signalGroup(syscall.SIGSTOP) }

// Resume lets a paused server run again.
func (k *Keystone) Resume() error { return k.signalGroup(syscall.SIGCONT) }

func (k *Keystone) signalGroup(sig syscall.Signal) error {
	if k.cmd == nil {
		return fmt.Errorf("keystone at %s is not running", k.URL)
	}
	if err := syscall.Kill(-k.cmd.Process.Pid, sig); err != nil {
		return fmt.Errorf("uwsgi process group %d: %v: %w", k.cmd.Process.Pid, sig, err)
	}
	return nil
}
