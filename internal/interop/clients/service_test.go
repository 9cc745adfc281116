//go:build interop

package clients

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/cowdisk/cowdisk/internal/ostest"
	"github.com/cowdisk/cowdisk/internal/testcluster"
)

// mode is one way of running the image service. Each mode gets one
// service, shared by every test of the package (started on first use).
type mode struct {
	name  string
	store string // rbd or file
	auth  string // none or tokens
}

// modes covers both stores and both auth modes without running every
// scenario four times: the store matters for data, auth for identities.
var modes = []mode{
	{name: "none-rbd", store: "rbd", auth: "none"},
	{name: "tokens-file", store: "file", auth: "tokens"},
}

// person is a caller: the project it acts in, the token the tests use for
// plain HTTP, and the OS_* environment the clients read: glanceEnv for the
// glance CLI, osEnv for openstack and openstacksdk (glance breaks when it
// sees OS_AUTH_TYPE, so the two cannot share one environment).
type person struct {
	project, token   string
	glanceEnv, osEnv []string
}

// service is a running `cowdisk serve images`.
type service struct {
	mode    mode
	url     string
	dir     string // temp dir: data, log, tokens file
	pool    string // RBD pool of the rbd store
	fileDir string // directory of the file store
	cmd     *exec.Cmd
	waited  chan struct{}
	people  map[string]person // owner, other (another project), admin
	// distinct: owner, other and admin are different callers. With --auth
	// none every caller is the same admin of one project, and "other" is
	// only a project id to share images with.
	distinct bool
	// identity: the clients can reach an identity service (Keystone), which
	// openstack needs to look up projects for some commands.
	identity    bool
	webDownload bool             // started with --web-download-allow
	env         []string         // added to the service's environment
	keystone    *ostest.Keystone // the Keystone of --auth keystone
}

var (
	servicesMu sync.Mutex
	services   = map[string]*service{}
	failed     = map[string]error{}
)

// serviceFor returns the running service of m, starting it on first use.
func serviceFor(t *testing.T, m mode) *service {
	t.Helper()
	servicesMu.Lock()
	defer servicesMu.Unlock()
	if s := services[m.name]; s != nil {
		return s
	}
	if err := failed[m.name]; err != nil {
		t.Fatalf("service %s did not start earlier: %v", m.name, err)
	}
	s, err := startService(t, m)
	if err != nil {
		failed[m.name] = err
		t.Fatalf("starting service %s: %v", m.name, err)
	}
	services[m.name] = s
	return s
}

// forEachMode runs f as a parallel subtest per mode.
func forEachMode(t *testing.T, f func(t *testing.T, s *service)) {
	for _, m := range modes {
		t.Run(m.name, func(t *testing.T) {
			t.Parallel()
			f(t, serviceFor(t, m))
		})
	}
}

func startService(t *testing.T, m mode) (*service, error) {
	dir, err := os.MkdirTemp("", "cowdisk-interop-"+m.name+"-")
	if err != nil {
		return nil, err
	}
	s := &service{mode: m, dir: dir, fileDir: filepath.Join(dir, "images")}
	args, err := s.args(t)
	if err == nil {
		err = s.launch(args)
	}
	if err != nil {
		s.stop()
		return nil, err
	}
	return s, nil
}

// args builds the command line; it also makes the pool and the tokens.
func (s *service) args(t *testing.T) ([]string, error) {
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	s.url = "http://127.0.0.1:" + strconv.Itoa(port)
	args := []string{"serve", "images", "--listen", "127.0.0.1:" + strconv.Itoa(port),
		"--data-dir", s.dir, "--store", s.mode.store, "--auth", s.mode.auth}
	if s.mode.store == "rbd" {
		s.pool, _ = testcluster.Pools(t, "interop-clients")
		args = append(args, "--rbd-pool", s.pool, "--ceph-conf", testcluster.Config(t).ConfPath)
	}
	switch s.mode.auth {
	case "none":
		s.people = noAuthPeople(s.url)
		args = append(args, "--project", s.people["owner"].project)
	case "tokens":
		path := filepath.Join(s.dir, "tokens.json")
		if s.people, err = writeTokens(path, s.url); err != nil {
			return nil, err
		}
		s.distinct = true
		args = append(args, "--tokens-file", path)
	case "keystone": // the service's own credentials come as OS_* variables
		if s.env, err = s.startKeystone(); err != nil {
			return nil, fmt.Errorf("keystone: %w", err)
		}
		s.distinct, s.identity = true, true
	}
	if s.webDownload, err = hasFlag("--web-download-allow"); err != nil {
		return nil, err
	}
	if s.webDownload { // the loopback server of the web-download tests
		args = append(args, "--web-download-allow", "127.0.0.1")
	}
	return args, nil
}

// tokenPerson is a caller with a fixed token: glance takes OS_AUTH_TOKEN +
// OS_IMAGE_URL, openstack and openstacksdk the admin_token plugin with an
// endpoint ending in /v2.
func tokenPerson(url, project, token string) person {
	return person{project: project, token: token,
		glanceEnv: []string{"OS_AUTH_TOKEN=" + token, "OS_IMAGE_URL=" + url},
		osEnv:     []string{"OS_AUTH_TYPE=admin_token", "OS_TOKEN=" + token, "OS_ENDPOINT=" + url + "/v2"}}
}

// noAuthPeople: with --auth none every caller is an admin of one project,
// so owner, other and admin are the same person; other names a second
// project only as a member to share with. Project ids look like
// Keystone's (see writeTokens).
func noAuthPeople(url string) map[string]person {
	p := tokenPerson(url, randomHex(), "none")
	other := p
	other.project = randomHex()
	return map[string]person{"owner": p, "other": other, "admin": p}
}

// writeTokens writes a tokens file with a member of one project (owner), a
// member of another (other) and an admin of a third, each with a random
// token.
func writeTokens(path, url string) (map[string]person, error) {
	roles := map[string][]string{"owner": {"member", "reader"}, "other": {"member", "reader"},
		"admin": {"admin", "member", "reader"}}
	people := map[string]person{}
	var entries []map[string]any
	for who, r := range roles {
		// Project ids look like Keystone's (32 hex digits): openstack
		// looks a project up in Keystone unless its argument is UUID-like.
		tok, project := randomHex(), randomHex()
		people[who] = tokenPerson(url, project, tok)
		entries = append(entries, map[string]any{"token": tok, "project": project, "roles": r})
	}
	data, err := json.Marshal(map[string]any{"tokens": entries})
	if err != nil {
		return nil, err
	}
	return people, os.WriteFile(path, data, 0o600)
}

func randomHex() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b) // crypto/rand.Read does not fail on Linux
	return hex.EncodeToString(b)
}

// hasFlag tells whether `serve images` knows flag: some features land on
// other branches; the tests that need them then fail saying so.
func hasFlag(flag string) (bool, error) {
	out, err := exec.Command(cowdiskBin, "serve", "images", "--help").CombinedOutput()
	if err != nil {
		return false, fmt.Errorf("cowdisk serve images --help: %v: %s", err, out)
	}
	return strings.Contains(string(out), flag+" "), nil
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// launch starts the binary and waits until /healthz answers 200 (the RBD
// store answers 503 until it has connected and swept its temporaries).
func (s *service) launch(args []string) error {
	log, err := os.Create(filepath.Join(s.dir, "service.log"))
	if err != nil {
		return err
	}
	defer log.Close()
	s.cmd = exec.Command(cowdiskBin, args...)
	s.cmd.Env = append(os.Environ(), s.env...)
	s.cmd.Stdout, s.cmd.Stderr = log, log
	if err := s.cmd.Start(); err != nil {
		return fmt.Errorf("starting %s: %w", cowdiskBin, err)
	}
	s.waited = make(chan struct{})
	go func() { _ = s.cmd.Wait(); close(s.waited) }()
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case <-s.waited:
			return fmt.Errorf("service exited: %s", s.logTail())
		case <-time.After(200 * time.Millisecond):
		}
		if healthy(s.url) {
			return nil
		}
	}
	return fmt.Errorf("service not healthy after 60 s: %s", s.logTail())
}

func healthy(url string) bool {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url+"/healthz", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return false
	}
	resp.Body.Close()
	return resp.StatusCode == http.StatusOK
}

func (s *service) logTail() string {
	b, _ := os.ReadFile(filepath.Join(s.dir, "service.log"))
	if len(b) > 4000 {
		b = b[len(b)-4000:]
	}
	return string(b)
}

// stop ends the service by its pid (TERM, then KILL after 15 s) and
// removes its temp dir.
func (s *service) stop() {
	if s.cmd != nil && s.cmd.Process != nil {
		_ = s.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-s.waited:
		case <-time.After(15 * time.Second):
			_ = s.cmd.Process.Kill()
			<-s.waited
		}
	}
	if s.keystone != nil {
		_ = s.keystone.Stop()
	}
	_ = os.RemoveAll(s.dir)
}

func stopServices() {
	servicesMu.Lock()
	defer servicesMu.Unlock()
	for name, s := range services {
		s.stop()
		delete(services, name)
	}
}
