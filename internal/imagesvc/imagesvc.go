// Package imagesvc assembles the image service: catalog, store, auth and
// API behind one HTTP server with /healthz and /metrics, and runs it until
// its context ends.
package imagesvc

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/cowdisk/cowdisk/internal/ceph"
	"github.com/cowdisk/cowdisk/internal/errs"
	"github.com/cowdisk/cowdisk/internal/imagesvc/api"
	"github.com/cowdisk/cowdisk/internal/imagesvc/auth"
	"github.com/cowdisk/cowdisk/internal/imagesvc/catalog"
	"github.com/cowdisk/cowdisk/internal/imagesvc/store"
	"github.com/cowdisk/cowdisk/internal/imagesvc/store/filestore"
	"github.com/cowdisk/cowdisk/internal/imagesvc/store/rbdstore"
)

// Config is everything `cowdisk serve images` can be told.
type Config struct {
	Listen string // host:port; default 127.0.0.1:9292
	DB     string // SQLite catalog file

	Store   string // "file" or "rbd"
	FileDir string // file store directory
	RBD     rbdstore.Config
	Ceph    ceph.Config

	Auth       string // "none" or "tokens"
	TokensFile string
	Project    string // the single project of auth "none"
	// AllowRemoteNoAuth lets auth "none" listen on a non-loopback address:
	// without it anyone who can reach the port would be admin.
	AllowRemoteNoAuth bool

	ShowLocations   bool
	MaxImageSize    int64
	ShutdownTimeout time.Duration // default 30s
	Logger          *slog.Logger
}

// Service is a running image service.
type Service struct {
	srv      *http.Server
	ln       net.Listener
	log      *slog.Logger
	closers  []io.Closer
	inflight sync.WaitGroup
	timeout  time.Duration
	// recovering says what start-up work still runs in the background
	// (nil: none); /healthz answers 503 with it until it is done.
	recovering atomic.Pointer[string]
	bg         sync.WaitGroup
	stopBg     context.CancelFunc
}

// Start opens the catalog and the store, listens, and serves in the
// background. Stop it with Shutdown.
func Start(ctx context.Context, cfg Config) (_ *Service, err error) {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Listen == "" {
		cfg.Listen = "127.0.0.1:9292"
	}
	if cfg.ShutdownTimeout == 0 {
		cfg.ShutdownTimeout = 30 * time.Second
	}
	s := &Service{log: cfg.Logger, timeout: cfg.ShutdownTimeout}
	defer func() {
		if err != nil {
			s.close()
		}
	}()
	authn, err := newAuth(cfg)
	if err != nil {
		return nil, err
	}
	if cfg.DB == "" {
		return nil, fmt.Errorf("image service: no catalog file: %w", errs.ErrInvalid)
	}
	cat, err := catalog.OpenSQLite(ctx, cfg.DB)
	if err != nil {
		return nil, err
	}
	s.closers = append(s.closers, cat)
	st, err := s.newStore(ctx, cfg)
	if err != nil {
		return nil, err
	}
	sweep, err := recoverCrash(ctx, cat, st, cfg.Logger)
	if err != nil {
		return nil, err
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	a := api.New(api.Config{Catalog: cat, Store: st, Auth: authn, ShowLocations: cfg.ShowLocations,
		MaxImageSize: cfg.MaxImageSize, Logger: cfg.Logger, Registerer: reg})
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	// Not healthy while the start-up sweep runs: whoever waits for
	// /healthz (rollouts, tests) then finds the store as clean as a
	// synchronous sweep would leave it. Requests are served meanwhile.
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		if why := s.recovering.Load(); why != nil {
			http.Error(w, *why, http.StatusServiceUnavailable)
			return
		}
		a.ServeHTTP(w, r)
	})
	mux.Handle("/", a)
	if s.ln, err = net.Listen("tcp", cfg.Listen); err != nil {
		return nil, fmt.Errorf("image service: %w", err)
	}
	s.srv = &http.Server{Handler: s.track(mux), ReadHeaderTimeout: 30 * time.Second,
		ErrorLog: slog.NewLogLogger(cfg.Logger.Handler(), slog.LevelWarn)}
	bg, stop := context.WithCancel(context.WithoutCancel(ctx))
	s.stopBg = stop
	if sweep != nil {
		why := "removing data of uploads cut by a crash"
		s.recovering.Store(&why)
		s.bg.Add(1)
		go func() {
			defer s.bg.Done()
			sweep(bg)
			s.recovering.Store(nil)
		}()
	}
	go func() {
		if err := s.srv.Serve(s.ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			s.log.Error("image service stopped serving", "err", err)
		}
	}()
	s.log.Info("image service listening", "addr", s.Addr(), "store", st.ID(), "auth", cfg.Auth, "catalog", cfg.DB)
	return s, nil
}

// Addr is the address the service listens on (useful with port 0).
func (s *Service) Addr() string { return s.ln.Addr().String() }

// track counts requests in flight, so Shutdown can wait for upload
// handlers to finish their clean-up before the catalog is closed.
func (s *Service) track(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.inflight.Add(1)
		defer s.inflight.Done()
		h.ServeHTTP(w, r)
	})
}

// Shutdown stops accepting requests, lets running ones finish for up to the
// shutdown timeout, then cuts them; cut uploads clean up after themselves
// before the catalog and the cluster connection are closed.
func (s *Service) Shutdown() error {
	ctx, cancel := context.WithTimeout(context.Background(), s.timeout)
	defer cancel()
	err := s.srv.Shutdown(ctx)
	if err != nil {
		s.log.Warn("requests still running at shutdown; cutting them", "err", err)
		s.srv.Close()
	}
	s.inflight.Wait()
	// The sweep uses the cluster connection that close drops.
	s.stopBg()
	s.bg.Wait()
	s.close()
	s.log.Info("image service stopped")
	if errors.Is(err, context.DeadlineExceeded) {
		return nil // cut on purpose
	}
	return err
}

func (s *Service) close() {
	for i := len(s.closers) - 1; i >= 0; i-- {
		if err := s.closers[i].Close(); err != nil {
			s.log.Warn("closing", "err", err)
		}
	}
	s.closers = nil
}

// Run starts the service and shuts it down when ctx ends.
func Run(ctx context.Context, cfg Config) error {
	s, err := Start(ctx, cfg)
	if err != nil {
		return err
	}
	<-ctx.Done()
	return s.Shutdown()
}

func newAuth(cfg Config) (auth.Authenticator, error) {
	switch cfg.Auth {
	case "none", "":
		if !cfg.AllowRemoteNoAuth && !loopback(cfg.Listen) {
			return nil, fmt.Errorf("auth none on %s would make anyone who reaches it admin; "+
				"listen on a loopback address, use --auth tokens, or force it: %w", cfg.Listen, errs.ErrRefused)
		}
		project := cfg.Project
		if project == "" {
			project = "cowdisk"
		}
		return auth.None{Project: project}, nil
	case "tokens":
		return auth.LoadTokens(cfg.TokensFile)
	}
	return nil, fmt.Errorf("auth mode %q (want none or tokens): %w", cfg.Auth, errs.ErrInvalid)
}

func loopback(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

func (s *Service) newStore(ctx context.Context, cfg Config) (store.Store, error) {
	switch cfg.Store {
	case "file", "":
		if cfg.FileDir == "" {
			return nil, fmt.Errorf("file store: no directory: %w", errs.ErrInvalid)
		}
		return filestore.New(cfg.FileDir)
	case "rbd":
		c, err := ceph.Connect(ctx, cfg.Ceph)
		if err != nil {
			return nil, fmt.Errorf("image service: rbd store: %w", err)
		}
		s.closers = append(s.closers, c)
		return rbdstore.New(c, cfg.RBD)
	}
	return nil, fmt.Errorf("store %q (want file or rbd): %w", cfg.Store, errs.ErrInvalid)
}
