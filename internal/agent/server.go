package agent

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/cowdisk/cowdisk/internal/errs"
	"github.com/cowdisk/cowdisk/internal/imagesvc/auth"
	"github.com/cowdisk/cowdisk/internal/provisioner"
	"github.com/cowdisk/cowdisk/internal/rbdloc"
	"github.com/cowdisk/cowdisk/internal/strictjson"
)

// Server serves the node API over a backend. The backend may arrive after
// the server listens (NewPending, then Ready): an agent started while Ceph
// is unreachable must still answer, with 503, instead of exiting.
type Server struct {
	ready    atomic.Pointer[backend]
	starting atomic.Pointer[string] // what it waits for until Ready
	log      *slog.Logger
	m        *metrics
	steps    *stepMetrics
	mux      *http.ServeMux
	auth     auth.Authenticator // see WithAuth
}

// backend is what Ready installs, swapped in as one value. Its health
// check goes to the health monitor (readyHealth), which serves /readyz.
type backend struct {
	b provisioner.Backend
}

// New builds the server and its routes over a backend that is ready now.
func New(b provisioner.Backend, log *slog.Logger, opts ...Option) *Server {
	s := NewPending(log, opts...)
	s.Ready(b, nil)
	return s
}

// NewPending builds a server without a backend: until Ready, disk routes
// and /healthz answer 503 saying what it waits for (see Starting).
func NewPending(log *slog.Logger, opts ...Option) *Server {
	if log == nil {
		log = slog.Default()
	}
	s := &Server{log: log, m: newMetrics(), mux: http.NewServeMux(), auth: auth.None{Project: "cowdisk"}}
	s.steps = newStepMetrics(s.m.reg)
	for _, o := range opts {
		o(s)
	}
	s.Starting("starting")
	for pattern, h := range map[string]http.HandlerFunc{
		"POST /v1/disks":                              s.authed("create", s.create),
		"GET /v1/disks":                               s.authed("list", s.list),
		"GET /v1/disks/{instance_id}/{name}":          s.authed("get", s.get),
		"DELETE /v1/disks/{instance_id}/{name}":       s.authed("delete", s.deleteOne),
		"GET /v1/disks/{instance_id}/{name}/libvirt":  s.authed("libvirt", s.libvirt),
		"POST /v1/disks/{instance_id}/{name}/resize":  s.authed("resize", s.resize),
		"POST /v1/disks/{instance_id}/{name}/flatten": s.authed("flatten", s.flatten),
		"DELETE /v1/instances/{instance_id}/disks":    s.authed("delete_instance", s.deleteInstance),
		"GET /v1/cache":                               s.authed("cache", s.cache),
		"POST /v1/cache/prune":                        s.authed("prune", s.prune),
		"GET /v1/stats":                               s.authed("stats", s.stats),
	} {
		s.mux.HandleFunc(pattern, h)
	}
	// Open on purpose: probes and Prometheus scrapers carry no token, and
	// neither route names a disk, an image or a project.
	s.initObserve() // request ids in logs; /livez, /readyz, /healthz (observe*.go)
	s.mux.Handle("GET /metrics", promhttp.HandlerFor(s.m.reg, promhttp.HandlerOpts{}))
	return s
}

func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.observe(w, r, s.mux) }

// Starting sets what a pending server says it waits for (e.g. the last
// Ceph connection error), so a 503 tells the operator why.
func (s *Server) Starting(status string) {
	s.starting.Store(&status)
	if s.m.health != nil {
		// Before Ready the only check is this status: instant, and a
		// probe right after Starting reads it.
		s.m.health.CheckNow(context.Background())
	}
}

// Ready installs the backend and its health check (nil: always healthy);
// from then on requests reach it. Call it once.
func (s *Server) Ready(b provisioner.Backend, health func(context.Context) error) {
	s.m.addStats(b)
	s.ready.Store(&backend{b: b})
	s.readyHealth(b, health)
}

// backend returns the backend as the request's caller may use it (see
// scoped), or answers 503 and returns nil while the server is pending.
func (s *Server) backend(w http.ResponseWriter, r *http.Request, op string) *backend {
	if be := s.ready.Load(); be != nil {
		c, _ := callerFrom(r.Context())
		return &backend{b: scoped{b: be.b, c: c}}
	}
	s.fail(w, r, op, fmt.Errorf("node agent not ready: %s: %w", *s.starting.Load(), errs.ErrUnavailable))
	return nil
}

// maxBody bounds request bodies; every body here is a few small fields.
const maxBody = 64 << 10

func decode(w http.ResponseWriter, r *http.Request, v any) error {
	// Strict: a duplicate or case-differing member, invalid UTF-8 or a
	// second value would let two readers of one body see two requests.
	if err := strictjson.Decode(http.MaxBytesReader(w, r.Body, maxBody), v, strictjson.Options{DisallowUnknownFields: true}); err != nil {
		return fmt.Errorf("request body: %w", err)
	}
	return nil
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}

// fail answers with the error's status and counts it by cause.
func (s *Server) fail(w http.ResponseWriter, r *http.Request, op string, err error) {
	code, cause := status(err)
	s.m.failures.WithLabelValues(op, cause).Inc()
	level := slog.LevelWarn
	if code >= 500 {
		level = slog.LevelError
	}
	// No answer or log line repeats credentials an image record carried.
	msg := rbdloc.Redact(err.Error())
	s.log.Log(r.Context(), level, "request failed", "op", op, "method", r.Method, "path", r.URL.Path, "status", code, "err", msg)
	writeJSON(w, code, ErrorBody{Error: ErrorDetail{Code: cause, Message: msg}})
}

func (s *Server) create(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	var req CreateRequest
	if err := decode(w, r, &req); err != nil {
		s.fail(w, r, "create", err)
		return
	}
	if err := provisioner.ValidImageID(req.ImageID); err != nil {
		s.fail(w, r, "create", err)
		return
	}
	be := s.backend(w, r, "create")
	if be == nil {
		return
	}
	d, err := be.b.Create(r.Context(), provisioner.Request{InstanceID: req.InstanceID, Name: req.Name, ImageID: req.ImageID, SizeBytes: req.SizeBytes})
	if err != nil {
		s.fail(w, r, "create", err)
		return
	}
	if d.Existed {
		writeJSON(w, http.StatusOK, diskJSON(d))
		return
	}
	s.m.created.WithLabelValues(string(d.Method)).Inc()
	s.m.duration.WithLabelValues(string(d.Method)).Observe(time.Since(start).Seconds())
	s.steps.observe(d)
	writeJSON(w, http.StatusCreated, diskJSON(d))
}

func (s *Server) list(w http.ResponseWriter, r *http.Request) {
	be := s.backend(w, r, "list")
	if be == nil {
		return
	}
	disks, err := be.b.List(r.Context(), r.URL.Query().Get("instance_id"))
	if err != nil {
		s.fail(w, r, "list", err)
		return
	}
	out := make([]Disk, 0, len(disks))
	for _, d := range disks {
		out = append(out, diskJSON(d))
	}
	writeJSON(w, http.StatusOK, out)
}

// disk answers with the disk an operation returns.
func (s *Server) disk(w http.ResponseWriter, r *http.Request, op string, d provisioner.Disk, err error) {
	if err != nil {
		s.fail(w, r, op, err)
		return
	}
	writeJSON(w, http.StatusOK, diskJSON(d))
}

func (s *Server) get(w http.ResponseWriter, r *http.Request) {
	be := s.backend(w, r, "get")
	if be == nil {
		return
	}
	d, err := be.b.Get(r.Context(), r.PathValue("instance_id"), r.PathValue("name"))
	s.disk(w, r, "get", d, err)
}

func (s *Server) resize(w http.ResponseWriter, r *http.Request) {
	var req ResizeRequest
	if err := decode(w, r, &req); err != nil {
		s.fail(w, r, "resize", err)
		return
	}
	be := s.backend(w, r, "resize")
	if be == nil {
		return
	}
	d, err := be.b.Resize(r.Context(), r.PathValue("instance_id"), r.PathValue("name"), req.SizeBytes)
	s.disk(w, r, "resize", d, err)
}

func (s *Server) flatten(w http.ResponseWriter, r *http.Request) {
	be := s.backend(w, r, "flatten")
	if be == nil {
		return
	}
	d, err := be.b.Flatten(r.Context(), r.PathValue("instance_id"), r.PathValue("name"))
	s.disk(w, r, "flatten", d, err)
}

func (s *Server) libvirt(w http.ResponseWriter, r *http.Request) {
	be := s.backend(w, r, "libvirt")
	if be == nil {
		return
	}
	disk, err := be.b.Attachment(r.Context(), r.PathValue("instance_id"), r.PathValue("name"), r.URL.Query().Get("target"))
	if err != nil {
		s.fail(w, r, "libvirt", err)
		return
	}
	doc, err := disk.Marshal()
	if err != nil {
		s.fail(w, r, "libvirt", err)
		return
	}
	w.Header().Set("Content-Type", "application/xml")
	_, _ = w.Write([]byte(doc + "\n"))
}

func (s *Server) deleteOne(w http.ResponseWriter, r *http.Request) {
	be := s.backend(w, r, "delete")
	if be == nil {
		return
	}
	if err := be.b.Delete(r.Context(), r.PathValue("instance_id"), r.PathValue("name")); err != nil {
		s.fail(w, r, "delete", err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) deleteInstance(w http.ResponseWriter, r *http.Request) {
	be := s.backend(w, r, "delete_instance")
	if be == nil {
		return
	}
	if err := be.b.DeleteInstance(r.Context(), r.PathValue("instance_id")); err != nil {
		s.fail(w, r, "delete_instance", err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) cache(w http.ResponseWriter, r *http.Request) {
	be := s.backend(w, r, "cache")
	if be == nil {
		return
	}
	bases, err := be.b.Bases(r.Context())
	if err != nil {
		s.fail(w, r, "cache", err)
		return
	}
	out := make([]Base, 0, len(bases))
	for _, b := range bases {
		out = append(out, baseJSON(b))
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) stats(w http.ResponseWriter, r *http.Request) {
	be := s.backend(w, r, "stats")
	if be == nil {
		return
	}
	var out Stats
	if src, ok := s.ready.Load().b.(StatsSource); ok { // counters only: any caller
		out = statsJSON(src.Stats())
	}
	writeJSON(w, http.StatusOK, out)
}
