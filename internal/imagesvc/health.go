package imagesvc

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/cowdisk/cowdisk/internal/buildinfo"
	"github.com/cowdisk/cowdisk/internal/ceph"
	"github.com/cowdisk/cowdisk/internal/health"
	"github.com/cowdisk/cowdisk/internal/imagesvc/catalog"
)

// startHealth serves /livez, /readyz and /healthz from checks run in the
// background until bg ends: start-up work, the catalog, the file store's
// directory; connectRBD adds Ceph once connected (watchCeph). Not ready
// while the start-up sweep runs: whoever waits for readiness (rollouts,
// tests) then finds the store usable and as clean as a synchronous sweep
// would leave it.
func (s *Service) startHealth(bg context.Context, cfg Config, mux *http.ServeMux, reg prometheus.Registerer, cat catalog.Catalog) {
	m := health.New(cfg.HealthInterval, cfg.HealthTimeout, s.log.With("health", "images"))
	s.health = m
	m.Set("startup", func(context.Context) error {
		if why := s.recovering.Load(); why != nil {
			return errors.New(*why)
		}
		return nil
	})
	m.Set("catalog", func(ctx context.Context) error {
		_, err := cat.Usage(ctx, "")
		return err
	})
	if cfg.Store == "file" || cfg.Store == "" {
		m.Set("store", func(context.Context) error { return dirUsable(cfg.FileDir) })
	}
	if cfg.ExitWhenReplaced {
		s.replaced = m.StopOn(func(err error) bool { return errors.Is(err, ceph.ErrReplaced) })
	}
	reg.MustRegister(m.Collectors("cowdisk_images")...)
	reg.MustRegister(buildinfo.Collector())
	m.Register(mux)
	// Once now, so a probe right after Start reads a real answer (these
	// checks are local or, before Ceph is connected, instant).
	m.CheckNow(bg)
	s.bg.Add(1)
	go func() {
		defer s.bg.Done()
		m.Run(bg)
	}()
}

// wait serves until ctx ends or, with ExitWhenReplaced, the cluster is
// found replaced: then it shuts down as on a signal (running requests
// finish) and returns the reason, so the process exits with an error and
// its supervisor (systemd Restart=on-failure) starts it against the new
// cluster. That is the reconnect: the connection is shared by requests in
// flight and replacing it under them is not safe.
func (s *Service) wait(ctx context.Context) error {
	select {
	case <-ctx.Done():
		return s.Shutdown()
	case err := <-s.replaced:
		s.log.Error("stopping: the Ceph cluster was replaced; restart to reconnect", "err", err)
		return errors.Join(fmt.Errorf("image service: %w", err), s.Shutdown())
	}
}

// watchCeph makes readiness follow the cluster from now on.
// The prober is closed before the cluster (closers run in reverse).
func (s *Service) watchCeph(c *ceph.Cluster, pool string) {
	p := ceph.NewProber(c, pool)
	s.addCloser(p)
	s.health.Set("ceph", p.Probe)
}

func dirUsable(dir string) error {
	fi, err := os.Stat(dir)
	if err != nil {
		return err
	}
	if !fi.IsDir() {
		return fmt.Errorf("%s is not a directory", dir)
	}
	return nil
}
