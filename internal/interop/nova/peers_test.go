//go:build interop

package nova

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/cowdisk/cowdisk/internal/ceph"
	"github.com/cowdisk/cowdisk/internal/ostest"
	"github.com/cowdisk/cowdisk/internal/testcluster"
)

// Tokens of cowdisk's image service (--auth tokens): Nova reads with the
// service token (locations are shown to service and admin callers only);
// the tests upload as an admin of project p1.
const (
	serviceToken = "nova-interop-service"
	adminToken   = "nova-interop-admin"
)

// peers are the services every test here shares: one real Glance, one
// cowdisk image service and one cowdisk node agent per package, since a
// Glance takes ~12 s to start. Tests run one at a time (no t.Parallel):
// they share the pools and check them clean at the end.
type peers struct {
	c                               *ceph.Cluster
	dir                             string
	imagesPool, vmsPool, glancePool string
	glance                          *ostest.Glance
	images                          *server // cowdisk serve images: RBD store in imagesPool
	agent                           *server // cowdisk serve node against glance
	cowdiskImages, glanceImages     endpoint
}

var shared struct {
	once sync.Once
	p    *peers
	err  error
}

// setup starts the peers once, for the first test that needs them.
func setup(t *testing.T) *peers {
	t.Helper()
	shared.once.Do(func() {
		images, vms := testcluster.Pools(t, "nova")
		shared.p, shared.err = startPeers(testcluster.Config(t), images, vms)
	})
	if shared.err != nil || shared.p == nil {
		t.Fatalf("starting Glance and cowdisk's services: %v", shared.err)
	}
	p := shared.p
	// Registered first, so it runs after every cleanup of the test.
	t.Cleanup(func() {
		for _, pool := range []string{p.imagesPool, p.vmsPool, p.glancePool} {
			testcluster.AssertPoolClean(t, p.c, pool)
		}
	})
	return p
}

func startPeers(cfg ceph.Config, images, vms string) (_ *peers, err error) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	p := &peers{imagesPool: images, vmsPool: vms, glancePool: "nova-glance"}
	defer func() {
		if err != nil {
			err = errors.Join(err, p.stop())
		}
	}()
	if p.dir, err = os.MkdirTemp("", "cowdisk-interop-nova-"); err != nil {
		return nil, err
	}
	if p.c, err = ceph.Connect(ctx, cfg); err != nil {
		return nil, err
	}
	if err = p.cleanPool(ctx, p.glancePool); err != nil {
		return nil, err
	}
	if p.glance, err = ostest.NewGlance(ctx, p.mkdir("glance"), ostest.GlanceOptions{
		CephConf: cfg.ConfPath, CephUser: cfg.User, Pool: p.glancePool}); err != nil {
		return nil, err
	}
	if err = p.startImages(ctx, cfg); err != nil {
		return nil, err
	}
	p.agent, err = startServer(ctx, p.dir, "node", "--image-service", p.glance.URL,
		"--images-pool", p.glancePool, "--vms-pool", p.vmsPool, "--node", "novainterop",
		"--temp-dir", p.mkdir("agent-tmp"), "--ceph-conf", cfg.ConfPath)
	if err != nil {
		return nil, err
	}
	p.glanceImages = endpoint{url: p.glance.URL}
	return p, nil
}

// cleanPool makes a real Glance's pool and removes what a crashed
// earlier run left in it.
func (p *peers) cleanPool(ctx context.Context, pool string) error {
	if err := p.c.CreatePool(ctx, pool); err != nil {
		return err
	}
	names, err := p.c.ListImages(ctx, pool)
	if err != nil {
		return err
	}
	for _, n := range names {
		if err := p.c.Remove(ctx, pool, n, ceph.RemoveOptions{Retries: -1}); err != nil {
			return fmt.Errorf("leftover %s/%s: %w", pool, n, err)
		}
	}
	return p.c.TrashPurge(ctx, pool)
}

// startImages runs cowdisk's image service with the RBD store and a
// tokens file.
func (p *peers) startImages(ctx context.Context, cfg ceph.Config) error {
	type token struct {
		Token   string   `json:"token"`
		Project string   `json:"project"`
		Roles   []string `json:"roles"`
	}
	tokens, _ := json.Marshal(map[string][]token{"tokens": {
		{Token: serviceToken, Project: "services", Roles: []string{"service"}},
		{Token: adminToken, Project: "p1", Roles: []string{"admin"}},
	}})
	file := filepath.Join(p.dir, "tokens.json")
	if err := os.WriteFile(file, tokens, 0o600); err != nil {
		return err
	}
	var err error
	p.images, err = startServer(ctx, p.dir, "images", "--store", "rbd", "--rbd-pool", p.imagesPool,
		"--data-dir", p.mkdir("images"), "--auth", "tokens", "--tokens-file", file, "--ceph-conf", cfg.ConfPath)
	if err != nil {
		return err
	}
	p.cowdiskImages = endpoint{url: p.images.url, token: static(adminToken)}
	return nil
}

func (p *peers) mkdir(name string) string {
	d := filepath.Join(p.dir, name)
	_ = os.MkdirAll(d, 0o700)
	return d
}

// stop ends every service by pid and removes the temp dir.
func (p *peers) stop() error {
	errs := []error{p.agent.stop(), p.images.stop()}
	if p.glance != nil {
		errs = append(errs, p.glance.Stop())
	}
	if p.c != nil {
		errs = append(errs, p.c.Close())
	}
	if p.dir != "" {
		errs = append(errs, os.RemoveAll(p.dir))
	}
	return errors.Join(errs...)
}

// stopPeers is TestMain's end: the shared services go with the package,
// the Keystone set first (its agent and Glance use the shared pools).
func stopPeers() error {
	err := ksShared.p.stop()
	if shared.p != nil {
		err = errors.Join(err, shared.p.stop())
	}
	return err
}
