package devcluster

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cowdisk/cowdisk/internal/testmode"
)

// TestLifecycle boots a real cluster of its own (the shared test cluster must
// not be stopped), then checks the refusals and that down leaves nothing.
func TestLifecycle(t *testing.T) {
	testmode.Needs(t, "a Ceph dev cluster of its own")
	// A shell pointing at another cluster must not leak into this one.
	t.Setenv("CEPH_KEYRING", "/nonexistent/keyring")
	t.Setenv("CEPH_ARGS", "--keyring /nonexistent/keyring")
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	dir := filepath.Join(t.TempDir(), "c")
	c, err := Up(ctx, Options{Dir: dir, Pools: []string{"p1"}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = Down(context.Background(), dir) })

	loaded, err := Load(dir)
	if err != nil || loaded.FSID != c.FSID || !loaded.monAlive() || !loaded.osdAlive() {
		t.Fatalf("load after up: %+v, %v", loaded, err)
	}
	env := strings.Join(c.Env(), "\n")
	if !strings.Contains(env, "CEPH_CONF="+c.ConfPath) {
		t.Errorf("env lacks CEPH_CONF: %s", env)
	}

	t.Run("refuses a running dir", func(t *testing.T) {
		_, err := Up(ctx, Options{Dir: dir})
		if !errors.Is(err, ErrRunning) {
			t.Fatalf("second up: got %v, want ErrRunning", err)
		}
	})

	t.Run("refuses a taken monitor port", func(t *testing.T) {
		if err := c.StopMon(); err != nil {
			t.Fatal(err)
		}
		l, err := net.Listen("tcp", c.MonAddr)
		if err != nil {
			t.Fatal(err)
		}
		err = c.StartMon(ctx)
		l.Close()
		if err == nil || !strings.Contains(err.Error(), "taken") {
			t.Fatalf("start mon on a taken port: %v", err)
		}
		if err := c.StartMon(ctx); err != nil {
			t.Fatalf("restart mon: %v", err)
		}
	})

	t.Run("down stops its daemons and removes the dir", func(t *testing.T) {
		mon, osd := c.MonPID, c.OSDPID
		if err := Down(ctx, dir); err != nil {
			t.Fatal(err)
		}
		for _, pid := range []int{mon, osd} {
			if alive(pid, c.ConfPath) {
				t.Errorf("pid %d still alive after down", pid)
			}
		}
		if _, err := os.Stat(dir); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("dir still there: %v", err)
		}
	})
}

func TestCheckInstalledNamesMissing(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	err := checkInstalled()
	if err == nil || !strings.Contains(err.Error(), "ceph-mon") || !strings.Contains(err.Error(), "apt-get install") {
		t.Fatalf("got %v", err)
	}
}

func TestConfNamesV1Address(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "ceph.conf")
	if err := writeConf(p, confParams{dir: dir, fsid: "f", store: "memstore", monPort: 4242}); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(p)
	for _, want := range []string{"mon host = v1:127.0.0.1:4242", "ms bind msgr2 = false", fmt.Sprintf("run dir = %s/run", dir)} {
		if !strings.Contains(string(b), want) {
			t.Errorf("conf lacks %q", want)
		}
	}
}
