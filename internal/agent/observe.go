package agent

import (
	"context"
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

type requestIDKey struct{}

// requestIDHandler adds the request id of the record's context to every
// log line, so a failure logged deep in a handler (Server.fail) carries the
// id the caller got back.
type requestIDHandler struct{ slog.Handler }

func (h requestIDHandler) Handle(ctx context.Context, r slog.Record) error {
	if id, ok := ctx.Value(requestIDKey{}).(string); ok {
		r.AddAttrs(slog.String("request_id", id))
	}
	return h.Handler.Handle(ctx, r)
}

func (h requestIDHandler) WithAttrs(as []slog.Attr) slog.Handler {
	return requestIDHandler{h.Handler.WithAttrs(as)}
}

func (h requestIDHandler) WithGroup(name string) slog.Handler {
	return requestIDHandler{h.Handler.WithGroup(name)}
}

// initObserve sets up what observe*.go adds to the server: request ids in
// its log lines and the health endpoints.
func (s *Server) initObserve() {
	s.log = slog.New(requestIDHandler{s.log.Handler()})
	s.startHealth()
}

// observe serves r with next, giving it an id (echoed in X-Request-Id),
// one log line and its count and duration by route and code. Probes and
// scrapes log at debug level: they come every few seconds.
func (s *Server) observe(w http.ResponseWriter, r *http.Request, next http.Handler) {
	start := time.Now()
	id := "req-" + uuid.NewString()
	w.Header().Set(requestIDHeader, id)
	r = r.WithContext(context.WithValue(r.Context(), requestIDKey{}, id))
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
	s.log.Log(r.Context(), level, "request", "method", r.Method, "path", r.URL.Path,
		"route", route, "status", sw.Code, "bytes_out", sw.Bytes, "duration", took)
}
