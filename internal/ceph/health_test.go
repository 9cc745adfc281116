package ceph_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cowdisk/cowdisk/internal/ceph"
	"github.com/cowdisk/cowdisk/internal/errs"
	"github.com/cowdisk/cowdisk/internal/testcluster"
)

func TestConfFSID(t *testing.T) {
	for _, tc := range []struct{ conf, want string }{
		{"[global]\nfsid = 0a1b\nmon host = x\n", "0a1b"},
		{"[global]\n\tFSID=0a1b ; comment\n", "0a1b"},
		{"[global]\nmon host = x\n", ""},
		{"[global]\nfs_id = x\nfsid = 0a1b # comment\n", "0a1b"},
	} {
		p := filepath.Join(t.TempDir(), "ceph.conf")
		if err := os.WriteFile(p, []byte(tc.conf), 0o600); err != nil {
			t.Fatal(err)
		}
		if got, err := ceph.ConfFSID(p); err != nil || got != tc.want {
			t.Errorf("%q: %q %v, want %q", tc.conf, got, err, tc.want)
		}
	}
}

// TestProbe: a healthy cluster passes (a pool without rbd_directory too: a
// "not found" is an answer); a ceph.conf that now names another fsid is a
// replaced cluster, naming both fsids.
func TestProbe(t *testing.T) {
	ctx, _, images, _ := setup(t)
	cfg := testcluster.Config(t)
	b, err := os.ReadFile(cfg.ConfPath)
	if err != nil {
		t.Fatal(err)
	}
	cfg.ConfPath = filepath.Join(t.TempDir(), "ceph.conf")
	if err := os.WriteFile(cfg.ConfPath, b, 0o600); err != nil {
		t.Fatal(err)
	}
	c, err := ceph.Connect(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	for _, pool := range []string{"", images} {
		if err := ceph.NewProber(c, pool).Probe(ctx); err != nil {
			t.Errorf("probe of pool %q: %v", pool, err)
		}
	}
	if err := ceph.NewProber(c, "no-such-pool").Probe(ctx); !errors.Is(err, errs.ErrUnavailable) || !strings.Contains(err.Error(), "no-such-pool") {
		t.Errorf("probe of a missing pool: %v", err)
	}
	other := "00000000-0000-4000-8000-000000000000"
	if err := os.WriteFile(cfg.ConfPath, []byte(strings.ReplaceAll(string(b), c.FSID(), other)), 0o600); err != nil {
		t.Fatal(err)
	}
	err = ceph.NewProber(c, images).Probe(context.Background())
	if !errors.Is(err, ceph.ErrReplaced) || !errors.Is(err, errs.ErrUnavailable) ||
		!strings.Contains(err.Error(), other) || !strings.Contains(err.Error(), c.FSID()) {
		t.Errorf("replaced cluster: %v", err)
	}
}
