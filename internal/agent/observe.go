package agent

import (
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/google/uuid"

	"github.com/cowdisk/cowdisk/internal/httpobs"
)

// requestIDHeader carries each request's id back to the caller, so a
// failure someone reports can be found in the agent's log.
const requestIDHeader = "X-Request-Id"

// observe serves r with next, giving it an id (echoed in X-Request-Id),
// one log line and its count and duration by route and code. Probes and
// scrapes log at debug level: they come every few seconds.
func (s *Server) observe(w http.ResponseWriter, r *http.Request, next http.Handler) {
	start := time.Now()
	id := "req-" + uuid.NewString()
	w.Header().Set(requestIDHeader, id)
	sw := &httpobs.StatusWriter{ResponseWriter: w}
	next.ServeHTTP(sw, r)
	if sw.Code == 0 {
		sw.Code = http.StatusOK
	}
	route := r.Pattern // set by the mux on this request; "" when nothing matched
	if route == "" {
		route = "unmatched"
	}
	took := time.Since(start)
	s.m.requests.WithLabelValues(route, strconv.Itoa(sw.Code)).Inc()
	s.m.httpDuration.WithLabelValues(route).Observe(took.Seconds())
	level := slog.LevelInfo
	switch route {
	case "GET /livez", "GET /readyz", "GET /healthz", "GET /metrics":
		level = slog.LevelDebug
	}
	s.log.Log(r.Context(), level, "request", "request_id", id, "method", r.Method, "path", r.URL.Path,
		"route", route, "status", sw.Code, "bytes_out", sw.Bytes, "duration", took)
}
