package servecmd

import (
	"context"
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
	"github.com/cowdisk/cowdisk/internal/ceph"
	"github.com/cowdisk/cowdisk/internal/imageclient"
	"github.com/cowdisk/cowdisk/internal/provisioner"
)

func init() { servers = append(servers, NodeCommand) }

type nodeOptions struct {
	listen, backend    string
	imageURL, token    string
	cephConf, localDir string
	rbd                provisioner.RBDConfig
}

// NodeCommand is `cowdisk serve node`: the node agent.
func NodeCommand() *cobra.Command {
	o := nodeOptions{}
	c := &cobra.Command{
		Use:   "node",
		Short: "Run the node agent: disks from images over HTTP (default " + agent.DefaultAddr + ")",
		Args:  cobra.NoArgs,
		RunE:  func(cmd *cobra.Command, _ []string) error { return runNode(cmd.Context(), o) },
	}
	f := c.Flags()
	f.StringVar(&o.listen, "listen", agent.DefaultAddr, "address to listen on")
	f.StringVar(&o.backend, "backend", "rbd", "disk store: rbd or local")
	f.StringVar(&o.imageURL, "image-service", envOr("COWDISK_IMAGE_URL", "http://127.0.0.1:9292"), "Glance v2 endpoint (env COWDISK_IMAGE_URL)")
	f.StringVar(&o.token, "token", os.Getenv("COWDISK_IMAGE_TOKEN"), "X-Auth-Token for the image service (env COWDISK_IMAGE_TOKEN)")
	f.StringVar(&o.cephConf, "ceph-conf", "", "ceph.conf (default: env CEPH_CONF)")
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
	images, err := imageclient.New(o.imageURL, o.token, imageclient.Options{UserAgent: "cowdisk-node"})
	if err != nil {
		return err
	}
	src := provisioner.ClientSource{Client: images}
	var b provisioner.Backend
	var health func(context.Context) error
	switch o.backend {
	case "rbd":
		cfg := ceph.ConfigFromEnv()
		if o.cephConf != "" {
			cfg.ConfPath = o.cephConf
		}
		c, err := ceph.Connect(ctx, cfg)
		if err != nil {
			return err
		}
		defer c.Close()
		rb, err := provisioner.NewRBD(c, src, o.rbd, log)
		if err != nil {
			return err
		}
		b = rb
		health = func(ctx context.Context) error { _, err := c.ListImages(ctx, o.rbd.VMsPool); return err }
	case "local":
		lb, err := provisioner.NewLocal(src, provisioner.LocalConfig{Dir: o.localDir, NeverDownload: o.rbd.NeverDownload, MaxFetches: o.rbd.MaxFetches}, log)
		if err != nil {
			return err
		}
		b = lb
	default:
		return fmt.Errorf("--backend %q: want rbd or local", o.backend)
	}
	// A crash mid-create leaves only temporary names; they go before serving.
	reaped, err := b.Reap(ctx)
	if err != nil {
		return fmt.Errorf("reaping temporary images: %w", err)
	}
	if len(reaped) > 0 {
		log.Info("reaped temporary images", "names", reaped)
	}
	srv := agent.New(b, log)
	srv.Health = health
	return serveHTTP(ctx, o.listen, srv, log)
}

// serveHTTP serves until ctx ends, then lets running requests (a fallback
// import may take a while) finish for up to a minute.
func serveHTTP(ctx context.Context, addr string, h http.Handler, log *slog.Logger) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	hs := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	log.Info("node agent listening", "addr", ln.Addr().String())
	done := make(chan error, 1)
	go func() { done <- hs.Serve(ln) }()
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
	}
	shutdown, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Minute)
	defer cancel()
	err = hs.Shutdown(shutdown)
	if serveErr := <-done; !errors.Is(serveErr, http.ErrServerClosed) {
		return serveErr
	}
	return err
}
