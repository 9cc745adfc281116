//go:build interop

package nova

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/cowdisk/cowdisk/internal/ceph"
	"github.com/cowdisk/cowdisk/internal/ostest"
	"github.com/cowdisk/cowdisk/internal/testcluster"
)

// ksTokenLife is the Keystone's token lifetime: short, so a test can
// outlive the agent's token, long enough for the slowest step between
// getting the token and using it on a busy machine.
const ksTokenLife = 45 * time.Second

// ksPeers are a real Keystone, a real Glance behind it (its own pool) and
// a node agent reading that Glance with a Keystone token of its own
// service user. They are started by the first test that needs them.
type ksPeers struct {
	k        *ostest.Keystone
	glance   *ostest.Glance
	agent    *server
	pool     string
	images   endpoint  // the Glance, as Keystone's admin, making public images
	tokenAt  time.Time // when the agent's token was issued
	agentAPI endpoint
}

var ksShared struct {
	once sync.Once
	p    *ksPeers
	err  error
}

// keystone starts the Keystone set once and checks its pool clean at the
// end of the test.
func (p *peers) keystone(t *testing.T) *ksPeers {
	t.Helper()
	ksShared.once.Do(func() { ksShared.p, ksShared.err = p.startKeystone() })
	if ksShared.err != nil || ksShared.p == nil {
		t.Fatalf("starting Keystone and a Glance behind it: %v", ksShared.err)
	}
	ks := ksShared.p
	t.Cleanup(func() { testcluster.AssertPoolClean(t, p.c, ks.pool) })
	return ks
}

func (p *peers) startKeystone() (_ *ksPeers, err error) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	ks := &ksPeers{pool: "nova-glanceks"}
	defer func() {
		if err != nil {
			err = errors.Join(err, ks.stop())
		}
	}()
	dir := p.mkdir("keystone")
	if ks.k, err = ostest.NewKeystone(ctx, p.mkdir("keystone/ks"), ostest.KeystoneOptions{
		TokenExpiration: int(ksTokenLife / time.Second)}); err != nil {
		return nil, err
	}
	svc, err := ks.k.CreateProject(ctx, "service")
	if err != nil {
		return nil, err
	}
	if _, err = ks.k.CreateUser(ctx, "glance", "glance-pw", svc, "service", "service"); err != nil {
		return nil, err
	}
	node, err := ks.k.CreateUser(ctx, "cowdisk-node", "node-pw", svc, "service", "service")
	if err != nil {
		return nil, err
	}
	if err = p.cleanPool(ctx, ks.pool); err != nil {
		return nil, err
	}
	cfg := p.c.Config()
	if ks.glance, err = ostest.NewGlance(ctx, p.mkdir("keystone/glance"), ostest.GlanceOptions{
		CephConf: cfg.ConfPath, CephUser: cfg.User, Pool: ks.pool, Auth: ostest.GlanceKeystone,
		Keystone: ostest.GlanceKeystoneAuth{URL: ks.k.URL, Username: "glance", Password: "glance-pw", Project: "service"},
	}); err != nil {
		return nil, err
	}
	ks.images = endpoint{url: ks.glance.URL, token: ks.k.AdminToken, visibility: "public"}
	return ks, ks.startAgent(ctx, dir, node, cfg)
}

// startAgent runs a node agent that logs in to Keystone itself as node
// (the OS_* variables of an openrc file), as an operator configures it; the
// image endpoint is named, so the catalog is not needed.
func (ks *ksPeers) startAgent(ctx context.Context, dir string, node ostest.KeystoneUser, cfg ceph.Config) error {
	var env []string
	for k, v := range node.Env() {
		env = append(env, k+"="+v)
	}
	ks.tokenAt = time.Now()
	var err error
	ks.agent, err = startServerEnv(ctx, dir, "node", env, "--image-service", ks.glance.URL,
		"--images-pool", ks.pool, "--vms-pool", shared.p.vmsPool, "--node", "novaks",
		"--temp-dir", dir, "--ceph-conf", cfg.ConfPath)
	ks.agentAPI = endpoint{url: ks.agent.url}
	return err
}

func (ks *ksPeers) stop() error {
	if ks == nil {
		return nil
	}
	var errs []error
	errs = append(errs, ks.agent.stop())
	if ks.glance != nil {
		errs = append(errs, ks.glance.Stop())
	}
	if ks.k != nil {
		errs = append(errs, ks.k.Stop())
	}
	return errors.Join(errs...)
}

// TestAgentKeystoneGlanceTokenRenewed: behind a real Keystone, the node
// agent clones a raw image of a real Glance with a token of its own login,
// and still can past that token's lifetime (it renews before expiry).
func TestAgentKeystoneGlanceTokenRenewed(t *testing.T) {
	p := setup(t)
	ks := p.keystone(t)
	raw, _ := images(t)
	id := ks.images.upload(t, "ks-raw", "raw", raw)
	want := ceph.SnapRef{Pool: ks.pool, Image: id, Snap: "snap"}.String()
	if d := agentDiskAt(t, ks.agentAPI, id); d.Method != "clone" || d.Parent != want {
		t.Fatalf("disk %+v; want a clone of %s", d, want)
	}
	// Not a timing assertion: the wait only makes sure the token is dead.
	if wait := time.Until(ks.tokenAt.Add(ksTokenLife + 3*time.Second)); wait > 0 {
		t.Logf("waiting %v for the agent's Keystone token to expire", wait.Round(time.Second))
		time.Sleep(wait)
	}
	if d := agentDiskAt(t, ks.agentAPI, id); d.Method != "clone" || d.Parent != want {
		t.Fatalf("after the token expired: disk %+v; want a clone of %s", d, want)
	}
}
