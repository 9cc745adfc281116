// Package api is the HTTP face of the image service: the subset of the
// Glance v2 images API that clients (gophercloud, openstacksdk, Nova) use.
// It is the only place that turns errs sentinels into HTTP status codes.
package api

import (
	"log/slog"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/cowdisk/cowdisk/internal/imagesvc/auth"
	"github.com/cowdisk/cowdisk/internal/imagesvc/catalog"
	"github.com/cowdisk/cowdisk/internal/imagesvc/store"
)

// DefaultMaxImageSize is Glance's image_size_cap default (1 TiB).
const DefaultMaxImageSize = 1 << 40

// Config wires the API to its parts.
type Config struct {
	Catalog catalog.Catalog
	Store   store.Store
	Auth    auth.Authenticator
	// ShowLocations shows direct_url and locations to admin and service
	// callers (Glance's show_image_direct_url + show_multiple_locations).
	// The provisioner needs them to clone instead of download.
	ShowLocations bool
	// MaxImageSize bounds uploads; zero means DefaultMaxImageSize.
	MaxImageSize int64
	// Limits are the quotas and list bounds; zero fields take DefaultLimits.
	Limits Limits
	// NewInspection returns the format check run on every upload; nil means
	// the imageformat package's inspector.
	NewInspection func() Inspection
	Logger        *slog.Logger
	// Import enables Glance's image import (import.go); zero: off.
	Import ImportConfig
	// LocationsVisibleToOwner also shows an image's locations to its owner
	// project (locations_policy.go); default off.
	LocationsVisibleToOwner bool
	// Registerer receives the metrics; nil means none are exported.
	Registerer prometheus.Registerer
	// Replica names this server in the leases it takes on images (see
	// catalog.Lease); "" takes a random one. LeaseTTL is how long a lease
	// lasts unrenewed; zero: DefaultLeaseTTL.
	Replica  string
	LeaseTTL time.Duration
}

// Server serves the API.
type Server struct {
	cfg     Config
	imports *importRuns // background imports (import_runs.go)
	log     *slog.Logger
	metrics *metrics
	mux     *http.ServeMux
	quota   *storageQuota
}

// New returns the API server; it is an http.Handler.
func New(cfg Config) *Server {
	if cfg.MaxImageSize <= 0 {
		cfg.MaxImageSize = DefaultMaxImageSize
	}
	cfg.Limits = cfg.Limits.withDefaults()
	if cfg.NewInspection == nil {
		cfg.NewInspection = NewFormatInspection
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	cfg.Replica, cfg.LeaseTTL = replicaDefaults(cfg.Replica, cfg.LeaseTTL)
	s := &Server{cfg: cfg, log: cfg.Logger, metrics: newMetrics(cfg.Registerer), mux: http.NewServeMux(),
		quota: newStorageQuota()}
	s.routes()
	s.imports = newImportRuns(cfg.Import.MaxRunning)
	return s
}

func (s *Server) routes() {
	m := s.mux
	m.HandleFunc("GET /{$}", s.versions)
	m.HandleFunc("GET /versions", s.versions)
	m.Handle("POST /v2/images", s.authed(s.create))
	m.Handle("GET /v2/images", s.authed(s.list))
	m.Handle("GET /v2/images/{id}", s.authed(s.get))
	m.Handle("PATCH /v2/images/{id}", s.authed(s.patch))
	m.Handle("DELETE /v2/images/{id}", s.authed(s.delete))
	m.Handle("PUT /v2/images/{id}/file", s.authed(s.upload))
	m.Handle("GET /v2/images/{id}/file", s.authed(s.download))
	m.Handle("GET /v2/images/{id}/cowdisk-chunks", s.authed(s.chunkList))
	m.Handle("GET /v2/info/stores", s.authed(s.stores))
	m.Handle("POST /v2/images/{id}/members", s.authed(s.addMember))
	m.Handle("GET /v2/images/{id}/members", s.authed(s.listMembers))
	m.Handle("GET /v2/images/{id}/members/{member}", s.authed(s.getMember))
	m.Handle("PUT /v2/images/{id}/members/{member}", s.authed(s.setMember))
	m.Handle("DELETE /v2/images/{id}/members/{member}", s.authed(s.removeMember))
	m.HandleFunc("GET /v2/schemas/{kind}", s.schema)
	m.Handle("GET /v2/info/import", s.authed(s.importInfo))
	m.Handle("PUT /v2/images/{id}/stage", s.authed(s.stage))
	m.Handle("POST /v2/images/{id}/import", s.authed(s.importImage))
	m.Handle("GET /v2/images/{id}/locations", s.authed(s.getLocations))
	m.Handle("POST /v2/images/{id}/locations", s.authed(s.postLocation))
	m.Handle("POST /v2/images/{id}/actions/deactivate", s.authed(s.deactivate))
	m.Handle("POST /v2/images/{id}/actions/reactivate", s.authed(s.reactivate))
	m.Handle("PUT /v2/images/{id}/tags/{tag}", s.authed(s.addTag))
	m.Handle("DELETE /v2/images/{id}/tags/{tag}", s.authed(s.removeTag))
}

// ServeHTTP implements http.Handler with request ids, logs and metrics
// around every route.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.observe(s.unmatched(s.mux)).ServeHTTP(w, r)
}
