package api

import (
	"context"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/google/uuid"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/cowdisk/cowdisk/internal/httpobs"
	"github.com/cowdisk/cowdisk/internal/imagesvc/auth"
)

// requestIDHeader is the header OpenStack services use for request ids.
const requestIDHeader = "X-Openstack-Request-Id"

type ctxKey int

const (
	loggerKey ctxKey = iota
	principalKey
)

type metrics struct {
	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec
	uploaded prometheus.Counter
	uploads  *prometheus.CounterVec
}

func newMetrics(reg prometheus.Registerer) *metrics {
	m := &metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "cowdisk_images_http_requests_total", Help: "HTTP requests by route and status code.",
		}, []string{"route", "code"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "cowdisk_images_http_request_duration_seconds", Help: "HTTP request duration by route.",
			Buckets: prometheus.ExponentialBuckets(0.001, 4, 10),
		}, []string{"route"}),
		uploaded: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "cowdisk_images_upload_bytes_total", Help: "Image bytes stored by successful uploads.",
		}),
		uploads: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "cowdisk_images_uploads_total", Help: "Uploads by result (ok or the HTTP status).",
		}, []string{"result"}),
	}
	if reg != nil {
		reg.MustRegister(m.requests, m.duration, m.uploaded, m.uploads)
	}
	return m
}

// observe gives each request an id (echoed in X-Openstack-Request-Id and in
// every log line), logs it, and counts it.
func (s *Server) observe(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		id := "req-" + uuid.NewString()
		w.Header().Set(requestIDHeader, id)
		log := s.log.With("request_id", id)
		r = r.WithContext(context.WithValue(r.Context(), loggerKey, log))
		sw := &httpobs.StatusWriter{ResponseWriter: w}
		next.ServeHTTP(sw, r)
		route := r.Pattern // set by the mux on this request; "" when nothing matched
		if route == "" {
			route = "unmatched"
		}
		s.metrics.requests.WithLabelValues(route, strconv.Itoa(sw.Code)).Inc()
		s.metrics.duration.WithLabelValues(route).Observe(time.Since(start).Seconds())
		log.Debug("request", "method", r.Method, "path", r.URL.Path, "status", sw.Code,
			"bytes_out", sw.Bytes, "duration", time.Since(start))
	})
}

func logger(r *http.Request) *slog.Logger {
	if l, ok := r.Context().Value(loggerKey).(*slog.Logger); ok {
		return l
	}
	return slog.New(slog.DiscardHandler)
}

// authed authenticates X-Auth-Token; failures are 401 whatever the mode.
func (s *Server) authed(h func(http.ResponseWriter, *http.Request, auth.Principal)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, err := s.cfg.Auth.Authenticate(r.Context(), r.Header.Get("X-Auth-Token"))
		if err != nil {
			s.writeError(w, r, statusErr(http.StatusUnauthorized, "authentication required: %v", err))
			return
		}
		h(w, r.WithContext(context.WithValue(r.Context(), principalKey, p)), p)
	})
}
