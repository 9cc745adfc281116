// Package imagesvc assembles the image service: catalog, store, auth and
// API behind one HTTP server with /healthz and /metrics, and runs it until
// its context ends.
package imagesvc

import (
	"context"
	"crypto/tls"
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

	"github.com/cowdisk/cowdisk/internal/backoff"
	"github.com/cowdisk/cowdisk/internal/ceph"
	"github.com/cowdisk/cowdisk/internal/errs"
	"github.com/cowdisk/cowdisk/internal/health"
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
	DB     string // SQLite catalog file or postgres:// URL
	DBPool catalog.PoolOptions
	// Replica names this process in the catalog's leases ("" random);
	// LeaseTTL is how long its leases last unrenewed (0: api's default).
	Replica  string
	LeaseTTL time.Duration

	Store   string // "file" or "rbd"
	FileDir string // file store directory
	RBD     rbdstore.Config
	Ceph    ceph.Config

	Auth       string // "none", "tokens" or "keystone"
	TokensFile string
	Project    string // the single project of auth "none"
	// AllowRemoteNoAuth lets auth "none" listen on a non-loopback address:
	// without it anyone who can reach the port would be admin.
	AllowRemoteNoAuth bool
	// Keystone: where the identity service is and the service's own
	// credentials, for auth "keystone".
	Keystone *auth.KeystoneConfig

	// TLS, when set, serves HTTPS (see tlsconf.Server).
	TLS *tls.Config

	ShowLocations   bool
	MaxImageSize    int64
	Import          ImportConfig  // image import and location policy (import.go)
	Limits          api.Limits    // quotas and list bounds; zero fields: api.DefaultLimits
	ShutdownTimeout time.Duration // default 30s
	// HealthInterval and HealthTimeout pace the readiness checks (zero:
	// internal/health's defaults); ExitWhenReplaced stops Run with an
	// error when the Ceph cluster is found replaced (see health.go).
	HealthInterval, HealthTimeout time.Duration
	ExitWhenReplaced              bool
	Logger                        *slog.Logger
}

// Service is a running image service.
type Service struct {
	srv      *http.Server
	ln       net.Listener
	log      *slog.Logger
	mu       sync.Mutex // guards closers
	closers  []io.Closer
	inflight sync.WaitGroup
	timeout  time.Duration
	// recovering says what start-up work still runs in the background
	// (nil: none); /healthz answers 503 with it until it is done.
	recovering atomic.Pointer[string]
	bg         sync.WaitGroup
	stopBg     context.CancelFunc
	health     *health.Monitor // see health.go
	replaced   <-chan error    // see health.go; nil: never
	cat        catalog.Catalog // for the sweep of dead replicas' work (recover.go)
	replica    string          // this replica's name in leases
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
	if cfg.Replica == "" {
		cfg.Replica = defaultReplica(cfg)
	}
	if cfg.LeaseTTL <= 0 {
		cfg.LeaseTTL = api.DefaultLeaseTTL
	}
	s := &Service{log: cfg.Logger, timeout: cfg.ShutdownTimeout, replica: cfg.Replica}
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
	cat, err := catalog.Open(ctx, cfg.DB, cfg.DBPool)
	if err != nil {
		return nil, err
	}
	s.addCloser(cat)
	s.cat = cat
	st, connect, err := s.newStore(cfg)
	if err != nil {
		return nil, err
	}
	if err := recoverCrash(ctx, cat, st, cfg.Logger, cfg.Replica); err != nil {
		return nil, err
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	imp, err := importAPI(ctx, cfg.Import, cat, st.ID(), cfg.MaxImageSize, cfg.Logger, cfg.Replica)
	if err != nil {
		return nil, err
	}
	a := api.New(api.Config{Catalog: cat, Store: st, Auth: authn, ShowLocations: cfg.ShowLocations,
		MaxImageSize: cfg.MaxImageSize, Limits: cfg.Limits, Logger: cfg.Logger, Registerer: reg, Import: imp,
		LocationsVisibleToOwner: cfg.Import.LocationsVisibleToOwner, Replica: cfg.Replica, LeaseTTL: cfg.LeaseTTL})
	s.addCloser(a) // before the catalog and store close: cuts background imports, waits for their clean-up
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	mux.Handle("/", a)
	if s.ln, err = net.Listen("tcp", cfg.Listen); err != nil {
		return nil, fmt.Errorf("image service: %w", err)
	}
	if cfg.TLS != nil {
		s.ln = tls.NewListener(s.ln, cfg.TLS)
	}
	s.srv = &http.Server{Handler: s.track(mux), ReadHeaderTimeout: 30 * time.Second,
		ErrorLog: slog.NewLogLogger(cfg.Logger.Handler(), slog.LevelWarn)}
	bg, stop := context.WithCancel(context.WithoutCancel(ctx))
	s.stopBg = stop
	// The health monitor first: the connect below may finish at once and
	// registers its Ceph check with it (watchCeph).
	if connect != nil {
		s.setRecovering("connecting to Ceph")
	}
	s.startHealth(bg, cfg, mux, reg, cat)
	if connect != nil {
		s.bg.Add(1)
		go func() {
			defer s.bg.Done()
			if connect(bg) {
				s.setRecovering("")
			}
		}()
	}
	s.bg.Add(1)
	go func() { defer s.bg.Done(); s.sweepEvery(bg, st, cfg.Replica, cfg.LeaseTTL) }()
	go func() {
		if err := s.srv.Serve(s.ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			s.log.Error("image service stopped serving", "err", err)
		}
	}()
	s.log.Info("image service listening", "addr", s.Addr(), "store", st.ID(), "auth", cfg.Auth, "catalog", catalog.Redact(cfg.DB), "tls", cfg.TLS != nil)
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
	s.mu.Lock()
	defer s.mu.Unlock()
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
	return s.wait(ctx)
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
	case "keystone":
		if cfg.Keystone == nil {
			return nil, fmt.Errorf("auth keystone needs the service's keystone credentials: %w", errs.ErrInvalid)
		}
		return auth.NewKeystone(*cfg.Keystone)
	}
	return nil, fmt.Errorf("auth mode %q (want none, tokens or keystone): %w", cfg.Auth, errs.ErrInvalid)
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

// newStore returns the store and, for rbd, the start-up work that connects
// it in the background (connectRBD); the file store is ready at once.
func (s *Service) newStore(cfg Config) (store.Store, func(context.Context) bool, error) {
	switch cfg.Store {
	case "file", "":
		if cfg.FileDir == "" {
			return nil, nil, fmt.Errorf("file store: no directory: %w", errs.ErrInvalid)
		}
		st, err := filestore.New(cfg.FileDir)
		return st, nil, err
	case "rbd":
		// New only checks and keeps its arguments: a bad configuration
		// fails here, before listening; the store itself is made once
		// Ceph is connected.
		if _, err := rbdstore.New(nil, cfg.RBD); err != nil {
			return nil, nil, err
		}
		p := &pendingStore{}
		return p, func(ctx context.Context) bool { return s.connectRBD(ctx, cfg, p) }, nil
	}
	return nil, nil, fmt.Errorf("store %q (want file or rbd): %w", cfg.Store, errs.ErrInvalid)
}

// setRecovering says what start-up work runs ("": none) and has the
// readiness checks look again at once.
func (s *Service) setRecovering(why string) {
	if why == "" {
		s.recovering.Store(nil)
	} else {
		s.recovering.Store(&why)
	}
	if m := s.health; m != nil {
		m.Poke()
	}
}

// connectRBD connects to Ceph, retrying with backoff until it works or ctx
// ends (the service listens meanwhile: a monitor outage at start must not
// kill it), lists the leftovers of uploads a crash cut, makes the store
// ready and then removes those leftovers. Listing first means the uploads
// accepted from then on (new temporary names) are never swept. The sweep
// may take a minute: a killed writer's watch on its temporary outlives it
// by ~30 s. It reports whether it got to the end.
func (s *Service) connectRBD(ctx context.Context, cfg Config, p *pendingStore) bool {
	var c *ceph.Cluster
	if s.startupRetry(ctx, "Ceph not connected", func(ctx context.Context) (err error) {
		c, err = ceph.Connect(ctx, cfg.Ceph)
		return err
	}) != nil {
		return false
	}
	s.addCloser(c)
	st, err := rbdstore.New(c, cfg.RBD)
	if err != nil { // checked before listening; cannot happen
		s.log.Error("rbd store", "err", err)
		return false
	}
	s.addCloser(st) // closed before c: it holds open snapshots
	var names []string
	if s.startupRetry(ctx, "listing the store's leftovers", func(ctx context.Context) (err error) {
		names, err = st.Leftovers(ctx)
		return err
	}) != nil {
		return false
	}
	names = s.deadLeftovers(ctx, names) // spare live replicas' uploads
	p.ready(st)
	s.watchCeph(c, cfg.RBD.Pool)
	s.log.Info("rbd store connected", "fsid", c.FSID(), "pool", cfg.RBD.Pool)
	s.setRecovering("removing data of uploads cut by a crash")
	// Even with no names: the trash may hold an earlier run's leftovers.
	removed, err := st.RemoveLeftovers(ctx, names)
	logSweep(s.log, removed, err)
	return ctx.Err() == nil
}

// startupRetry runs op until it works or ctx ends (the only error it
// returns), saying why start-up waits: 1 s doubling to 30 s, jittered so
// replicas restarted together do not retry in step.
func (s *Service) startupRetry(ctx context.Context, what string, op func(context.Context) error) error {
	p := backoff.Policy{Initial: time.Second, Factor: 2, Max: 30 * time.Second, Jitter: 0.2,
		OnRetry: func(_ int, wait time.Duration, err error) {
			why := fmt.Sprintf("%s (retrying in %s): %v", what, wait.Round(time.Second), err)
			s.setRecovering(why)
			s.log.Warn("image service start-up: " + why)
		}}
	return p.Retry(ctx, func(ctx context.Context, _ int) error { return op(ctx) })
}

// addCloser is safe beside close: the background start-up adds the
// cluster connection while the service runs.
func (s *Service) addCloser(c io.Closer) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.closers = append(s.closers, c)
}
