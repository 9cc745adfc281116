package devcluster

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/google/uuid"
)

// bootstrap follows the order that is known to work here: keyring, monmap,
// mon mkfs + start, osd id, osd mkfs, auth + crush, osd start, pools, write.
// The returned cluster is non-nil as soon as a daemon runs, so the caller
// can stop what was started when a later step fails.
func bootstrap(ctx context.Context, dir string, o Options) (*Cluster, error) {
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	osdPort, err := freeRange(20)
	if err != nil {
		return nil, err
	}
	c := &Cluster{
		Dir: dir, ConfPath: filepath.Join(dir, "ceph.conf"), KeyringPath: filepath.Join(dir, "keyring"),
		FSID: uuid.NewString(), MonAddr: fmt.Sprintf("127.0.0.1:%d", port), ObjectStore: o.ObjectStore,
	}
	p := confParams{dir: dir, fsid: c.FSID, store: o.ObjectStore, monPort: port,
		osdPortMin: osdPort, osdPortMax: osdPort + 19, memBytes: o.MemBytes, blockBytes: 16 << 30}
	if err := writeConf(c.ConfPath, p); err != nil {
		return nil, err
	}
	if err := c.makeMon(ctx); err != nil {
		return nil, err
	}
	if err := c.StartMon(ctx); err != nil {
		return c, err
	}
	if err := c.makeOSD(ctx); err != nil {
		return c, err
	}
	if err := c.StartOSD(ctx); err != nil {
		return c, err
	}
	for _, pool := range o.Pools {
		if err := c.CreatePool(ctx, pool); err != nil {
			return c, err
		}
	}
	return c, c.save()
}

func (c *Cluster) makeMon(ctx context.Context) error {
	monmap := filepath.Join(c.Dir, "monmap")
	steps := [][]string{
		{"ceph-authtool", "--create-keyring", c.KeyringPath, "--gen-key", "-n", "mon.", "--cap", "mon", "allow *"},
		{"ceph-authtool", c.KeyringPath, "--gen-key", "-n", "client.admin",
			"--cap", "mon", "allow *", "--cap", "osd", "allow *", "--cap", "mgr", "allow *", "--cap", "mds", "allow *"},
		{"monmaptool", "--create", "--fsid", c.FSID, "--addv", "a", "[v1:" + c.MonAddr + "]", monmap},
		{"ceph-mon", "-c", c.ConfPath, "--mkfs", "-i", "a", "--monmap", monmap, "--keyring", c.KeyringPath},
	}
	for _, s := range steps {
		if _, err := run(ctx, s[0], s[1:]...); err != nil {
			return err
		}
	}
	return nil
}

// ceph runs the admin tool against this cluster, never waiting on a dead monitor.
func (c *Cluster) ceph(ctx context.Context, args ...string) (string, error) {
	base := []string{"-c", c.ConfPath, "--connect-timeout", "15"}
	return run(ctx, "ceph", append(base, args...)...)
}

func (c *Cluster) makeOSD(ctx context.Context) error {
	id, err := c.ceph(ctx, "osd", "create")
	if err != nil {
		return err
	}
	if strings.TrimSpace(id) != "0" {
		return fmt.Errorf("expected osd id 0, got %q", strings.TrimSpace(id))
	}
	// --no-mon-config: without it mkfs tries to fetch config from the
	// monitor before it has a key, and fails.
	if _, err := run(ctx, "ceph-osd", "-c", c.ConfPath, "-i", "0", "--mkfs", "--mkkey", "--no-mon-config"); err != nil {
		return err
	}
	key := filepath.Join(c.Dir, "osd.0", "keyring")
	if _, err := c.ceph(ctx, "auth", "add", "osd.0", "osd", "allow *", "mon", "allow profile osd", "-i", key); err != nil {
		return err
	}
	_, err = c.ceph(ctx, "osd", "crush", "add", "osd.0", "1.0", "root=default", "host=localhost")
	return err
}

// StartMon starts the monitor and waits until it answers.
func (c *Cluster) StartMon(ctx context.Context) error {
	if c.monAlive() {
		return nil
	}
	if !portFree(mustPort(c.MonAddr)) {
		return fmt.Errorf("monitor port %s is taken by another process", c.MonAddr)
	}
	pid, err := startDaemon(filepath.Join(c.Dir, "log", "mon.a.out"), "ceph-mon", "-f", "-c", c.ConfPath, "-i", "a")
	if err != nil {
		return err
	}
	c.MonPID = pid
	if err := c.save(); err != nil {
		return err
	}
	return waitFor(ctx, "monitor", 20*time.Second, func() error {
		if !c.monAlive() {
			return fmt.Errorf("ceph-mon exited; see %s/log", c.Dir)
		}
		_, err := run(ctx, "ceph", "-c", c.ConfPath, "--connect-timeout", "2", "mon", "stat")
		return err
	})
}

// StartOSD starts the OSD and waits until the monitor reports it up.
func (c *Cluster) StartOSD(ctx context.Context) error {
	if c.osdAlive() {
		return nil
	}
	pid, err := startDaemon(filepath.Join(c.Dir, "log", "osd.0.out"), "ceph-osd", "-f", "-c", c.ConfPath, "-i", "0")
	if err != nil {
		return err
	}
	c.OSDPID = pid
	if err := c.save(); err != nil {
		return err
	}
	return waitFor(ctx, "osd.0 up", 60*time.Second, func() error {
		if !c.osdAlive() {
			return fmt.Errorf("ceph-osd exited; see %s/log", c.Dir)
		}
		out, err := c.ceph(ctx, "osd", "dump", "--format", "json")
		if err != nil {
			return err
		}
		if !strings.Contains(out, `"up":1`) {
			return fmt.Errorf("osd.0 not up yet")
		}
		return nil
	})
}

// StopOSD stops the OSD by pid (SIGTERM, then SIGKILL).
func (c *Cluster) StopOSD() error { return stop(c.OSDPID, c.ConfPath, syscall.SIGTERM) }

// KillOSD kills the OSD at once, as a crash would.
func (c *Cluster) KillOSD() error { return stop(c.OSDPID, c.ConfPath, syscall.SIGKILL) }

// StopMon stops the monitor by pid.
func (c *Cluster) StopMon() error { return stop(c.MonPID, c.ConfPath, syscall.SIGTERM) }

// CreatePool creates a size-1 rbd pool and waits until an object write to it succeeds,
// which is the moment clients can really use it.
func (c *Cluster) CreatePool(ctx context.Context, pool string) error {
	if _, err := c.ceph(ctx, "osd", "pool", "create", pool, "8", "8"); err != nil {
		return err
	}
	if _, err := c.ceph(ctx, "osd", "pool", "application", "enable", pool, "rbd"); err != nil {
		return err
	}
	probe := filepath.Join(c.Dir, "probe")
	if err := os.WriteFile(probe, []byte("cowdisk"), 0o644); err != nil {
		return err
	}
	return waitFor(ctx, "a write to pool "+pool, 30*time.Second, func() error {
		rados := []string{"-c", c.ConfPath, "--client-mount-timeout", "5", "--rados-osd-op-timeout", "5", "-p", pool}
		if _, err := run(ctx, "rados", append(rados, "put", "cowdisk-probe", probe)...); err != nil {
			return err
		}
		_, err := run(ctx, "rados", append(rados, "rm", "cowdisk-probe")...)
		return err
	})
}

func mustPort(addr string) int {
	var port int
	_, _ = fmt.Sscanf(addr[strings.LastIndex(addr, ":")+1:], "%d", &port)
	return port
}
