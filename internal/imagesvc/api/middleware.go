package api

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/google/uuid"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/cowdisk/cowdisk/internal/errs"
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

// authed authenticates X-Auth-Token. A bad token is 401; a token of the
// wrong kind (ErrRefused) 403; an identity service that cannot answer
// (ErrUnavailable, ErrTimeout) 503, so clients retry instead of asking
// their user for new credentials.
func (s *Server) authed(h func(http.ResponseWriter, *http.Request, auth.Principal)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, err := s.cfg.Auth.Authenticate(r.Context(), r.Header.Get("X-Auth-Token"))
		if err != nil && retryLater(err) {
			s.writeError(w, r, toldReason{fmt.Errorf("authentication unavailable, retry later: %w", err)})
			return
		}
		if errors.Is(err, errs.ErrRefused) {
			s.writeError(w, r, err)
			return
		}
		if err != nil {
			s.writeError(w, r, statusErr(http.StatusUnauthorized, "authentication required: %v", err))
			return
		}
		h(w, r.WithContext(context.WithValue(r.Context(), principalKey, p)), p)
	})
}

// toldReason marks an error whose text is answered even with a 5xx (whose
// texts writeError otherwise hides): it names only the identity service,
// which every client knows of, and tells why to retry rather than to ask
// its user for new credentials.
type toldReason struct{ error }

func (e toldReason) Unwrap() error { return e.error }

func reasonTold(err error) bool {
	var t toldReason
	return errors.As(err, &t)
}

// retryLater: a service behind this one (identity, storage) did not
// answer, so the caller should retry rather than change its request.
func retryLater(err error) bool {
	return errors.Is(err, errs.ErrUnavailable) || errors.Is(err, errs.ErrTimeout)
}
