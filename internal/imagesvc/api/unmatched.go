package api

import "net/http"

// unmatched gives the mux's own answers to unknown paths (404) and methods
// (405) Glance's error body instead of Go's "404 page not found", so that
// clients parse them like every other error. The mux's handler runs against
// a writer that keeps only its status and headers (Allow).
func (s *Server) unmatched(mux *http.ServeMux) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h, pattern := mux.Handler(r)
		if pattern != "" {
			mux.ServeHTTP(w, r)
			return
		}
		c := &headerOnly{header: http.Header{}}
		h.ServeHTTP(c, r)
		if c.code >= 300 && c.code < 400 { // a redirect to the clean path
			mux.ServeHTTP(w, r)
			return
		}
		if allow := c.header.Get("Allow"); allow != "" {
			w.Header().Set("Allow", allow)
		}
		code := c.code
		if code == 0 {
			code = http.StatusNotFound
		}
		msg := "The resource could not be found."
		if code == http.StatusMethodNotAllowed {
			msg = "The method " + r.Method + " is not allowed for this resource."
		}
		writeGlanceError(w, r, code, msg)
	})
}

// headerOnly is a ResponseWriter that drops the body.
type headerOnly struct {
	header http.Header
	code   int
}

func (h *headerOnly) Header() http.Header         { return h.header }
func (h *headerOnly) Write(p []byte) (int, error) { return len(p), nil }
func (h *headerOnly) WriteHeader(code int)        { h.code = code }
