package agent

import (
	"context"
	"fmt"
	"net/http"

	"github.com/cowdisk/cowdisk/internal/errs"
	"github.com/cowdisk/cowdisk/internal/imagesvc/auth"
)

// TokenHeader carries the caller's token, as in OpenStack.
const TokenHeader = "X-Auth-Token"

// maxTokenLen bounds X-Auth-Token (Keystone's Fernet tokens are ~200
// bytes, PKI tokens used to be a few KiB).
const maxTokenLen = 8 << 10

// Option configures a Server.
type Option func(*Server)

// WithAuth makes the server authenticate every disk and cache request with
// a (auth.None, auth.Tokens, or Keystone). Without it the server uses
// auth.None: every caller is admin of project "cowdisk", as before callers
// were authenticated; `cowdisk serve node` always sets one, and refuses
// none on a non-loopback address.
func WithAuth(a auth.Authenticator) Option { return func(s *Server) { s.auth = a } }

// caller is who sent a request: the principal and the token it came with,
// which the image records are read with (CallerSource).
type caller struct {
	p     auth.Principal
	token string
}

type callerKey struct{}

func withCaller(ctx context.Context, c caller) context.Context {
	return context.WithValue(ctx, callerKey{}, c)
}

func callerFrom(ctx context.Context) (caller, bool) {
	c, ok := ctx.Value(callerKey{}).(caller)
	return c, ok
}

// authed wraps a handler: the request goes on only with a token the
// authenticator accepts, and carries its caller in the context; otherwise
// the answer is 401. /healthz and /metrics are not wrapped.
func (s *Server) authed(op string, h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		token := r.Header.Get(TokenHeader)
		if len(token) > maxTokenLen {
			s.unauthorized(w, r, op, fmt.Errorf("%s longer than %d bytes: %w", TokenHeader, maxTokenLen, errs.ErrPermission))
			return
		}
		p, err := s.auth.Authenticate(r.Context(), token)
		if err != nil {
			s.unauthorized(w, r, op, err)
			return
		}
		if _, none := s.auth.(auth.None); none {
			// Not checked, so not used: the image is read with the
			// agent's own credentials, as before callers were known.
			token = ""
		}
		h(w, r.WithContext(withCaller(r.Context(), caller{p: p, token: token})))
	}
}

// unauthorized answers 401. An authenticator that cannot be reached
// (Keystone down) is not the caller's fault: that stays a 5xx.
func (s *Server) unauthorized(w http.ResponseWriter, r *http.Request, op string, err error) {
	if code, _ := status(err); code >= 500 && code != http.StatusInternalServerError {
		s.fail(w, r, op, err)
		return
	}
	s.m.failures.WithLabelValues(op, "unauthorized").Inc()
	s.log.WarnContext(r.Context(), "request not authenticated", "op", op, "method", r.Method, "path", r.URL.Path, "err", err)
	w.Header().Set("WWW-Authenticate", "Keystone")
	writeJSON(w, http.StatusUnauthorized, ErrorBody{Error: ErrorDetail{Code: "unauthorized", Message: err.Error()}})
}
