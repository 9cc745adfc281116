package bench

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"time"

	"github.com/cowdisk/cowdisk/internal/agent"
	"github.com/cowdisk/cowdisk/internal/bench/baseline"
	"github.com/cowdisk/cowdisk/internal/bench/glance"
	"github.com/cowdisk/cowdisk/internal/bench/procs"
	rp "github.com/cowdisk/cowdisk/internal/bench/report"
	"github.com/cowdisk/cowdisk/internal/ceph"
)

// node is one `cowdisk serve node` child: a "hypervisor" of the benchmark.
type node struct {
	name string
	proc *procs.Proc
	api  *agent.Client
}

func (n *node) metricsURL() string { return n.api.Base + "/metrics" }

// env is everything a run talks to.
type env struct {
	cfg     Config
	cluster *ceph.Cluster // floor clones and cleanup of baseline images
	tools   baseline.Tools
	images  *glance.Client
	imgProc *procs.Proc
	// clone is an ordinary node: it clones whatever it may. foreign and
	// second trust no image location (an empty allow-list), so even a raw
	// RBD image goes through the fallback: foreign makes the cold base,
	// second is the other hypervisor that finds it warm.
	clone, foreign, second *node
	// lastCPU is the CPU split of the last metered measurement (cpu.go).
	lastCPU *rp.CPUSample
}

// startupTimeout bounds how long a server may take to answer /healthz.
const startupTimeout = 60 * time.Second

func startEnv(ctx context.Context, cfg Config) (e *env, err error) {
	cc := ceph.ConfigFromEnv()
	e = &env{cfg: cfg, tools: baseline.DefaultTools(baseline.Ceph{Conf: cc.ConfPath, Keyring: cc.Keyring, User: cc.User})}
	defer func() {
		if err != nil {
			e.stop()
		}
	}()
	if e.cluster, err = ceph.Connect(ctx, cc); err != nil {
		return e, fmt.Errorf("bench: connect to ceph: %w", err)
	}
	for _, p := range []string{cfg.ImagesPool, cfg.VMsPool} {
		if err := e.cluster.CreatePool(ctx, p); err != nil {
			return e, fmt.Errorf("bench: pool %s: %w", p, err)
		}
	}
	if err := e.startImages(ctx); err != nil {
		return e, err
	}
	if e.clone, err = e.startNode(ctx, "nodeA", true); err != nil {
		return e, err
	}
	if e.foreign, err = e.startNode(ctx, "nodeB", false); err != nil {
		return e, err
	}
	e.second, err = e.startNode(ctx, "nodeC", false)
	return e, err
}

func (e *env) startImages(ctx context.Context) error {
	addr, err := procs.FreeAddr()
	if err != nil {
		return err
	}
	dir, err := e.cfg.workDir("imagesvc")
	if err != nil {
		return err
	}
	e.images = &glance.Client{Base: "http://" + addr}
	e.imgProc, err = procs.Start("image service", e.cfg.Bin, imagesArgs(e.cfg, addr, dir), nil, filepath.Join(dir, "log"))
	if err != nil {
		return err
	}
	wctx, cancel := context.WithTimeout(ctx, startupTimeout)
	defer cancel()
	return e.imgProc.WaitHTTP(wctx, e.images.Base+"/healthz")
}

func (e *env) startNode(ctx context.Context, name string, trusting bool) (*node, error) {
	addr, err := procs.FreeAddr()
	if err != nil {
		return nil, err
	}
	dir, err := e.cfg.workDir(name)
	if err != nil {
		return nil, err
	}
	n := &node{name: name, api: &agent.Client{Base: "http://" + addr}}
	n.proc, err = procs.Start(name, e.cfg.Bin, nodeArgs(e.cfg, addr, e.images.Base, name, dir, trusting), nil, filepath.Join(dir, "log"))
	if err != nil {
		return nil, err
	}
	wctx, cancel := context.WithTimeout(ctx, startupTimeout)
	defer cancel()
	if err := n.proc.WaitHTTP(wctx, n.api.Base+"/healthz"); err != nil {
		n.proc.Stop(5 * time.Second)
		return nil, err
	}
	return n, nil
}

// stop ends the servers (nodes first: they may be mid-request to the image
// service) and drops the cluster connection.
func (e *env) stop() {
	var errs []error
	for _, n := range []*node{e.second, e.foreign, e.clone} {
		if n != nil {
			errs = append(errs, n.proc.Stop(30*time.Second))
		}
	}
	errs = append(errs, e.imgProc.Stop(30*time.Second))
	if e.cluster != nil {
		errs = append(errs, e.cluster.Close())
	}
	if err := errors.Join(errs...); err != nil {
		e.cfg.Log.Warn("stopping servers", "err", err)
	}
}
