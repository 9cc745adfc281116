package servecmd

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"regexp"
	"time"

	"github.com/spf13/cobra"

	"github.com/cowdisk/cowdisk/internal/agent"
	"github.com/cowdisk/cowdisk/internal/backoff"
	"github.com/cowdisk/cowdisk/internal/ceph"
	"github.com/cowdisk/cowdisk/internal/imageclient"
	"github.com/cowdisk/cowdisk/internal/provisioner"
	"github.com/cowdisk/cowdisk/internal/tlsconf"
)

func init() { servers = append(servers, NodeCommand) }

// nodeEnvPrefix: every flag can also come from COWDISK_NODE_<FLAG> (see withConfig).
const nodeEnvPrefix = "COWDISK_NODE_"

type nodeOptions struct {
	limits          nodeLimits
	memory          nodeMemory
	listen, backend string
	imageURL, token string
	localDir        string
	ceph            cephConn
	health          healthTiming
	rbd             provisioner.RBDConfig
	sec             nodeSecurity
	keystone        *nodeKeystone // node_keystone.go
}

// NodeCommand is `cowdisk serve node`: the node agent.
func NodeCommand() *cobra.Command {
	o := nodeOptions{}
	c := &cobra.Command{
		Use:   "node",
		Short: "Run the node agent: disks from images over HTTP (default " + agent.DefaultAddr + ")",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			o.limits.apply(&o.rbd)
			if err := o.memory.apply(&o.rbd); err != nil {
				return err
			}
			return runNode(cmd.Context(), o)
		},
	}
	withConfig(c, nodeEnvPrefix) // first: PreRunE hooks added later see the config applied
	f := c.Flags()
	f.StringVar(&o.listen, "listen", agent.DefaultAddr, "address to listen on")
	f.StringVar(&o.backend, "backend", "rbd", "disk store: rbd or local")
	f.StringVar(&o.imageURL, "image-service", "http://127.0.0.1:9292", "Glance v2 endpoint")
	f.StringVar(&o.token, "token", "", "the agent's own X-Auth-Token for the image service, a service role")
	o.sec.register(f)
	o.keystone = newNodeKeystone(c)
	o.ceph.register(f)
	o.health.register(f)
	o.limits.register(f)
	o.memory.register(f)
	f.StringVar(&o.localDir, "local-dir", "/var/lib/cowdisk", "directory of the local backend")
	f.StringVar(&o.rbd.ImagesPool, "images-pool", "images", "the image service's pool")
	f.StringVar(&o.rbd.VMsPool, "vms-pool", "vms", "pool of instance disks and bases")
	f.StringSliceVar(&o.rbd.Allow.Pools, "allow-pool", nil, "pools whose images may be cloned (default: --images-pool)")
	f.StringVar(&o.rbd.Node, "node", hostNode(), "this node's name in temporary image names (letters and digits)")
	f.BoolVar(&o.rbd.NeverDownload, "never-download", false, "refuse disks that cannot be cloned instead of downloading the image")
	f.IntVar(&o.rbd.SoftDepth, "soft-depth", 4, "clone depth that is logged")
	f.IntVar(&o.rbd.HardDepth, "hard-depth", 8, "clone depth at which a new disk is flattened")
	f.IntVar(&o.rbd.MaxFetches, "max-fetches", provisioner.DefaultMaxFetches, "image downloads and conversions at once")
	f.StringVar(&o.rbd.TempDir, "temp-dir", "", "directory for qemu-img conversions (default: system temp)")
	f.StringVar(&o.rbd.Auth.User, "rbd-user", "", "cephx user the hypervisor uses (libvirt <auth>)")
	f.StringVar(&o.rbd.Auth.SecretUUID, "secret-uuid", "", "libvirt secret with that user's key")
	return c
}

func envOr(k, def string) string {
	if v := os.Getenv(k); v != "" {
		return v
	}
	return def
}

// hostNode is the host name reduced to what a temporary name may carry.
func hostNode() string {
	h, _ := os.Hostname()
	if h = regexp.MustCompile(`[^A-Za-z0-9]`).ReplaceAllString(h, ""); len(h) > 32 {
		h = h[:32]
	}
	if h == "" {
		return "node"
	}
	return h
}

func runNode(ctx context.Context, o nodeOptions) error {
	log := slog.Default().With("component", "agent")
	authn, err := o.sec.authenticator(ctx, o.listen, o.keystone.validator)
	if err != nil {
		return err
	}
	tlsCfg, err := o.sec.serverTLS()
	if err != nil {
		return err
	}
	hc, err := tlsconf.HTTPClient(o.sec.caCert)
	if err != nil {
		return fmt.Errorf("--cacert: %w", err)
	}
	if hc != nil { // one pool of connections for the agent's and its callers' reads
		hc = imageclient.Pooled(hc)
	}
	// Image records are read as the caller and locations with the agent's
	// own credentials (--token or Keystone); see agent.CallerSource.
	ico := imageclient.Options{HTTPClient: hc, MaxRecord: o.limits.maxRecord.bytes()}
	svc, err := o.keystone.client(ctx, o.imageURL, o.token, ico)
	if err != nil {
		return err
	}
	src, err := agent.NewCallerSource(svc, ico)
	if err != nil {
		return err
	}
	srv := agent.NewPending(log, agent.WithAuth(authn), agent.WithHealthTiming(o.health.interval, o.health.timeout))
	defer srv.Close()
	listen := func(fatal <-chan error) error { return serveHTTP(ctx, o.listen, tlsCfg, srv, fatal, log) }
	switch o.backend {
	case "rbd":
		// Listen first, connect in the background: an agent started while
		// the monitor is down answers 503 and comes up by itself once the
		// monitor is back, instead of exiting after the mount timeout.
		cfg, cerr := o.ceph.config()
		if cerr != nil {
			return cerr
		}
		cfg.NoImageCache = true // see ceph.Config: the agent's writes gain nothing from it
		ctx, cancel := context.WithCancel(ctx)
		defer cancel()
		fatal := make(chan error, 1)
		o.health.exitOnReplaced(ctx, srv, fatal)
		done := make(chan struct{})
		var conn rbdConn
		go func() {
			defer close(done)
			conn = startRBD(ctx, cfg, o, src, srv, log, fatal)
		}()
		err := listen(fatal)
		// Requests have finished; stop a connect or reap still running,
		// the background checks and scrapes, and only then drop the
		// connection they use (librados must not be shut down under a call).
		cancel()
		<-done
		srv.Close()
		conn.close()
		return err
	case "local":
		lb, err := provisioner.NewLocal(src, provisioner.LocalConfig{Dir: o.localDir, NeverDownload: o.rbd.NeverDownload, MaxFetches: o.rbd.MaxFetches, Bounds: o.rbd.Bounds}, log)
		if err != nil {
			return err
		}
		// Removes its staging directory after the last request.
		defer lb.Close()
		// Local files only: reaping is quick and cannot wait on Ceph.
		if err := reap(ctx, lb, log); err != nil {
			return fmt.Errorf("reaping temporaries: %w", err)
		}
		srv.Ready(lb, nil)
		return listen(nil)
	}
	return fmt.Errorf("--backend %q: want rbd or local", o.backend)
}

// rbdConn is what startRBD leaves for runNode to close, in this order.
type rbdConn struct {
	probe *ceph.Prober
	c     *ceph.Cluster
}

func (r rbdConn) close() {
	if r.probe != nil {
		r.probe.Close()
	}
	if r.c != nil {
		r.c.Close()
	}
}

// startRBD connects to Ceph, retrying with backoff until it works or ctx
// ends, reaps this node's temporaries and makes srv ready. It returns the
// connection (nil if none) for the caller to close after serving. A
// configuration error no retry can fix goes to fatal.
func startRBD(ctx context.Context, cfg ceph.Config, o nodeOptions, src provisioner.ImageSource,
	srv *agent.Server, log *slog.Logger, fatal chan<- error) rbdConn {
	srv.Starting("connecting to Ceph")
	// Forever (the node is useless without Ceph), until ctx ends: 1 s
	// doubling to 30 s, jittered so a rack of nodes does not retry in step.
	var c *ceph.Cluster
	connect := backoff.Policy{Initial: time.Second, Factor: 2, Max: 30 * time.Second, Jitter: 0.2,
		OnRetry: func(_ int, wait time.Duration, err error) {
			srv.Starting(fmt.Sprintf("Ceph not connected (retrying in %s): %v", wait.Round(time.Second), err))
			log.Warn("cannot connect to Ceph; retrying", "in", wait, "err", err)
		}}
	if err := connect.Retry(ctx, func(ctx context.Context, _ int) (err error) {
		c, err = ceph.Connect(ctx, cfg)
		return err
	}); err != nil {
		return rbdConn{} // only ctx ends it
	}
	log.Info("connected to Ceph", "fsid", c.FSID())
	if o.rbd.Features == 0 {
		// Disks get the features Nova gives them: the cluster's default.
		f, err := c.DefaultFeatures()
		if err != nil {
			fatal <- err
			return rbdConn{c: c}
		}
		o.rbd.Features = f | ceph.FeatureLayering
	}
	rb, err := provisioner.NewRBD(provisioner.Ceph(c), src, o.rbd, log)
	if err != nil {
		fatal <- err
		return rbdConn{c: c}
	}
	// A crash mid-create leaves only names recorded in this node's staging
	// journal (staged bases and imports, disks cloned in place without
	// their completion marker); they go before disk requests are served,
	// because the reap reads the journal once and a create running beside
	// it could have its fresh records taken for a crash's. Reap may wait a
	// while: a dead agent's watch on its images outlives it by ~30 s.
	srv.Starting("removing what a previous run left (staging journal)")
	reapPolicy := backoff.Policy{Initial: 5 * time.Second, Factor: 2, Attempts: 3,
		OnRetry: func(attempt int, _ time.Duration, err error) {
			log.Warn("removing a previous run's leftovers failed; retrying", "attempt", attempt, "err", err)
		}}
	if err := reapPolicy.Retry(ctx, func(ctx context.Context, _ int) error { return reap(ctx, rb, log) }); err != nil {
		if ctx.Err() != nil {
			return rbdConn{c: c}
		}
		// Staged leftovers are garbage under names no new create uses
		// (random suffix), and a disk left incomplete counts as absent (a
		// repeat create replaces it); being down for them helps nobody.
		// The next start tries again.
		log.Error("could not remove a previous run's leftovers; serving anyway", "err", err)
	}
	// Readiness follows the cluster from now on: monitors, an OSD of the
	// disk pool and the fsid ceph.conf names (a replaced cluster).
	probe := ceph.NewProber(c, o.rbd.VMsPool)
	srv.Ready(rb, probe.Probe)
	log.Info("node agent ready")
	return rbdConn{probe: probe, c: c}
}

func reap(ctx context.Context, b provisioner.Backend, log *slog.Logger) error {
	reaped, err := b.Reap(ctx)
	if len(reaped) > 0 {
		log.Info("reaped a previous run's leftovers", "names", reaped)
	}
	return err
}

// serveHTTP serves until ctx ends or an error arrives on fatal (nil: none),
// then lets running requests (a fallback import may take a while) finish
// for up to a minute.
func serveHTTP(ctx context.Context, addr string, tlsCfg *tls.Config, h http.Handler, fatal <-chan error, log *slog.Logger) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	if tlsCfg != nil {
		ln = tls.NewListener(ln, tlsCfg)
	}
	hs := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	log.Info("node agent listening", "addr", ln.Addr().String(), "tls", tlsCfg != nil)
	done := make(chan error, 1)
	go func() { done <- hs.Serve(ln) }()
	var fatalErr error
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
	case fatalErr = <-fatal:
	}
	shutdown, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Minute)
	defer cancel()
	err = hs.Shutdown(shutdown)
	if serveErr := <-done; !errors.Is(serveErr, http.ErrServerClosed) {
		return serveErr
	}
	if fatalErr != nil {
		return fatalErr
	}
	return err
}
