// Package testcluster connects tests to a real Ceph cluster.
//
// Tests use the dev cluster named by COWDISK_TEST_CEPH_CONF (with
// CEPH_KEYRING and CEPH_USER), which `make test` boots once for every
// package. When the variable is unset, a package whose TestMain calls Main
// boots its own throwaway cluster and stops it after its tests. Each
// package works in its own pools (Pools), so packages running in parallel
// against one cluster never see each other's images.
package testcluster

import (
	"context"
	"fmt"
	"maps"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/cowdisk/cowdisk/internal/ceph"
	"github.com/cowdisk/cowdisk/internal/devcluster"
	"github.com/cowdisk/cowdisk/internal/testmode"
)

// EnvConf names the ceph.conf of the cluster tests should use.
const EnvConf = "COWDISK_TEST_CEPH_CONF"

// bootTimeout bounds booting a private cluster for one package.
const bootTimeout = 2 * time.Minute

// Main runs a package's tests. In a unit run (-short) it boots nothing and
// Config skips the tests that need Ceph. Otherwise, if EnvConf is unset, it
// first boots a private dev cluster, points the environment at it, and
// stops it after the tests, failures and panics in tests included. Use it
// from TestMain:
//
//	func TestMain(m *testing.M) { testcluster.Main(m) }
func Main(m *testing.M) {
	os.Exit(run(m))
}

// MainNoLeaks is Main, and then fails the binary if goroutines outlive the
// tests (goleak): a cleanup that was started and never waited for. It
// checks after the private cluster is down, and only when the tests passed
// (a failed test may well leave its server running).
func MainNoLeaks(m *testing.M, opts ...goleak.Option) {
	code := run(m)
	if code == 0 {
		if err := goleak.Find(append(opts, lingeringDial)...); err != nil {
			fmt.Fprintln(os.Stderr, "goleak: goroutines outlived the tests:", err)
			code = 1
		}
	}
	os.Exit(code)
}

// lingeringDial is the one goroutine internal/ceph leaves by design:
// Connect dials in a goroutine of its own because a librados connect
// cannot be interrupted, so a test that gives up on an unreachable or
// stalled cluster leaves the dial running until client_mount_timeout
// (10 s by default), when it ends and cleans up after itself.
var lingeringDial = goleak.IgnoreTopFunction("github.com/ceph/go-ceph/rados._Cfunc_rados_connect")

func run(m *testing.M) int {
	// A unit run boots nothing: Config skips the tests that need Ceph.
	if testmode.Unit() || os.Getenv(EnvConf) != "" {
		return m.Run()
	}
	dir, err := os.MkdirTemp("", "cowdisk-testcluster-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "testcluster:", err)
		return 1
	}
	ctx, cancel := context.WithTimeout(context.Background(), bootTimeout)
	c, err := devcluster.Up(ctx, devcluster.Options{Dir: dir})
	cancel()
	if err != nil {
		fmt.Fprintln(os.Stderr, "testcluster: booting a dev cluster for this package:", err)
		_ = os.RemoveAll(dir)
		return 1
	}
	defer func() {
		if err := devcluster.Down(context.Background(), dir); err != nil {
			fmt.Fprintln(os.Stderr, "testcluster: stopping the dev cluster:", err)
		}
	}()
	for _, kv := range c.Env() {
		k, v, _ := strings.Cut(kv, "=")
		os.Setenv(k, v)
	}
	return m.Run()
}

// Config is the ceph configuration tests use. It fails t when no cluster
// is named: a test that needs Ceph never passes quietly without one.
func Config(t testing.TB) ceph.Config {
	t.Helper()
	testmode.Needs(t, "a Ceph cluster")
	conf := os.Getenv(EnvConf)
	if conf == "" {
		t.Fatalf("testcluster: %s is unset; run `make test`, or `source DIR/env` after "+
			"`cowdisk dev cluster up --dir DIR`, or call testcluster.Main from TestMain", EnvConf)
	}
	cfg := ceph.ConfigFromEnv()
	cfg.ConfPath = conf
	return cfg
}

// Connect returns a connection to the test cluster, closed when t ends.
func Connect(t testing.TB) *ceph.Cluster {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c, err := ceph.Connect(ctx, Config(t))
	if err != nil {
		t.Fatalf("testcluster: connect: %v", err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// Pools makes sure the pools "<prefix>-images" and "<prefix>-vms" exist and
// returns their names. Images left there by an earlier, crashed run are
// removed (and logged), so one bad run does not fail the next.
func Pools(t testing.TB, prefix string) (images, vms string) {
	t.Helper()
	c := Connect(t)
	images, vms = prefix+"-images", prefix+"-vms"
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	for _, p := range []string{images, vms} {
		if err := c.CreatePool(ctx, p); err != nil {
			t.Fatalf("testcluster: %v", err)
		}
		removeLeftovers(ctx, t, c, p)
	}
	return images, vms
}

// removeLeftovers removes leftovers from pool, clones before their parents.
func removeLeftovers(ctx context.Context, t testing.TB, c *ceph.Cluster, pool string) {
	t.Helper()
	for range 3 { // a parent goes once its clones went in an earlier round
		names, err := c.ListImages(ctx, pool)
		if err != nil {
			t.Fatalf("testcluster: %v", err)
		}
		if len(names) == 0 {
			break
		}
		t.Logf("testcluster: removing leftovers in pool %s: %v", pool, names)
		for _, n := range names {
			_ = c.Remove(ctx, pool, n, ceph.RemoveOptions{Retries: -1})
		}
	}
	if err := c.TrashPurge(ctx, pool); err != nil {
		t.Logf("testcluster: purging trash of %s: %v", pool, err)
	}
	owners, err := c.JournalOwners(ctx, pool)
	if err != nil {
		t.Fatalf("testcluster: %v", err)
	}
	for _, o := range owners { // a crashed run's records: its images went above
		if err := c.Settle(ctx, pool, o, recordedNames(ctx, t, c, pool, o)...); err != nil {
			t.Fatalf("testcluster: %v", err)
		}
	}
}

func recordedNames(ctx context.Context, t testing.TB, c *ceph.Cluster, pool, owner string) []string {
	t.Helper()
	recs, err := c.Journal(ctx, pool, owner)
	if err != nil {
		t.Fatalf("testcluster: %v", err)
	}
	return slices.Sorted(maps.Keys(recs))
}

// AssertPoolClean fails t if pool holds an image not in allowed, anything
// in its trash, or a staging journal (ceph.Stage) that still records a
// name: a record left is a create that neither published nor cleaned up.
// An empty journal object is accepted, like the pool's own rbd_directory:
// it is the owner's, reused by its next create. Tests call it after every
// failure path to prove that nothing was left behind.
func AssertPoolClean(t testing.TB, c *ceph.Cluster, pool string, allowed ...string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	names, err := c.ListImages(ctx, pool)
	if err != nil {
		t.Fatalf("testcluster: %v", err)
	}
	var extra []string
	for _, n := range names {
		if !slices.Contains(allowed, n) {
			extra = append(extra, n)
		}
	}
	if len(extra) > 0 {
		t.Errorf("pool %s holds unexpected images %v (allowed %v)", pool, extra, allowed)
	}
	trash, err := c.ListTrash(ctx, pool)
	if err != nil {
		t.Fatalf("testcluster: %v", err)
	}
	if len(trash) > 0 {
		t.Errorf("pool %s has %d image(s) in the trash: %+v", pool, len(trash), trash)
	}
	owners, err := c.JournalOwners(ctx, pool)
	if err != nil {
		t.Fatalf("testcluster: %v", err)
	}
	for _, o := range owners {
		if recs := recordedNames(ctx, t, c, pool, o); len(recs) > 0 {
			t.Errorf("pool %s: the journal of %s still records %v", pool, o, recs)
		}
	}
}
