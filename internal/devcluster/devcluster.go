// Package devcluster boots and stops a throwaway single-node Ceph cluster
// (one monitor, one OSD) on loopback, for the demo, the tests and the
// benchmarks. It drives the Ceph daemons and the `ceph` admin tool only to
// bootstrap; all RBD access in cowdisk goes through internal/ceph.
package devcluster

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/cowdisk/cowdisk/internal/backoff"
)

// Options says where and how to boot.
type Options struct {
	Dir string
	// ObjectStore is "memstore" (default: boots in seconds, data lives in
	// the OSD's memory) or "bluestore" (a file-backed block whose data
	// survives a kill and restart, which the fault tests need).
	ObjectStore string
	// Pools are created with size 1 and the rbd application; default images, vms.
	Pools []string
	// MemBytes caps memstore (default 12 GiB; only written data uses RAM).
	MemBytes uint64
}

// Cluster describes a booted cluster; it is saved as DIR/cluster.json.
type Cluster struct {
	Dir         string `json:"dir"`
	ConfPath    string `json:"conf"`
	KeyringPath string `json:"keyring"`
	FSID        string `json:"fsid"`
	MonAddr     string `json:"mon_addr"`
	ObjectStore string `json:"objectstore"`
	MonPID      int    `json:"mon_pid"`
	OSDPID      int    `json:"osd_pid"`
}

// ErrRunning means DIR already holds a live cluster.
var ErrRunning = errors.New("dev cluster already running")

// Daemons the cluster needs; checked up front so a missing package is named.
var required = []string{"ceph-mon", "ceph-osd", "ceph", "monmaptool", "ceph-authtool", "rados"}

// Up boots a cluster in o.Dir and returns once a write to every pool succeeds.
func Up(ctx context.Context, o Options) (*Cluster, error) {
	if err := checkInstalled(); err != nil {
		return nil, err
	}
	o = withDefaults(o)
	dir, err := filepath.Abs(o.Dir)
	if err != nil {
		return nil, err
	}
	if old, err := Load(dir); err == nil && (old.monAlive() || old.osdAlive()) {
		return nil, fmt.Errorf("%s: %w (mon pid %d, osd pid %d); run `cowdisk dev cluster down --dir %s` first",
			dir, ErrRunning, old.MonPID, old.OSDPID, dir)
	}
	if err := os.RemoveAll(dir); err != nil {
		return nil, err
	}
	c, err := bootstrap(ctx, dir, o)
	if err != nil {
		if c != nil {
			_ = c.stopAll()
		}
		return nil, fmt.Errorf("dev cluster in %s: %w (logs in %s/log)", dir, err, dir)
	}
	return c, nil
}

func withDefaults(o Options) Options {
	if o.ObjectStore == "" {
		o.ObjectStore = "memstore"
	}
	if len(o.Pools) == 0 {
		o.Pools = []string{"images", "vms"}
	}
	if o.MemBytes == 0 {
		o.MemBytes = 12 << 30
	}
	return o
}

func checkInstalled() error {
	var missing []string
	for _, b := range required {
		if _, err := exec.LookPath(b); err != nil {
			missing = append(missing, b)
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("ceph is not installed (missing %s): apt-get install ceph-mon ceph-osd ceph-common",
			strings.Join(missing, ", "))
	}
	return nil
}

// Load reads the description of a cluster booted earlier in dir.
func Load(dir string) (*Cluster, error) {
	b, err := os.ReadFile(filepath.Join(dir, "cluster.json"))
	if err != nil {
		return nil, err
	}
	var c Cluster
	if err := json.Unmarshal(b, &c); err != nil {
		return nil, fmt.Errorf("%s/cluster.json: %w", dir, err)
	}
	return &c, nil
}

func (c *Cluster) save() error {
	b, _ := json.MarshalIndent(c, "", "  ")
	if err := os.WriteFile(filepath.Join(c.Dir, "cluster.json"), b, 0o644); err != nil {
		return err
	}
	var env strings.Builder
	for _, kv := range c.Env() {
		fmt.Fprintf(&env, "export %s\n", kv)
	}
	return os.WriteFile(filepath.Join(c.Dir, "env"), []byte(env.String()), 0o644)
}

// Env gives the variables that point clients (and the test helper) at the cluster.
func (c *Cluster) Env() []string {
	return []string{
		"CEPH_CONF=" + c.ConfPath,
		"CEPH_KEYRING=" + c.KeyringPath,
		"CEPH_USER=admin",
		"COWDISK_TEST_CEPH_CONF=" + c.ConfPath,
	}
}

// Down stops exactly the daemons recorded in dir (by pid) and removes dir.
func Down(ctx context.Context, dir string) error {
	c, err := Load(dir)
	if errors.Is(err, os.ErrNotExist) {
		return os.RemoveAll(dir)
	}
	if err != nil {
		return err
	}
	if err := c.stopAll(); err != nil {
		return err
	}
	return os.RemoveAll(dir)
}

func (c *Cluster) stopAll() error {
	// The OSD first: a monitor that goes first leaves the OSD retrying.
	return errors.Join(c.StopOSD(), c.StopMon())
}

func (c *Cluster) monAlive() bool { return alive(c.MonPID, c.ConfPath) }
func (c *Cluster) osdAlive() bool { return alive(c.OSDPID, c.ConfPath) }

// waitFor polls cond until it holds or the timeout passes.
func waitFor(ctx context.Context, what string, timeout time.Duration, cond func() error) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	err := backoff.Policy{Initial: 200 * time.Millisecond}.Retry(ctx, func(context.Context, int) error { return cond() })
	if err != nil {
		return fmt.Errorf("waiting for %s: %w", what, err)
	}
	return nil
}
