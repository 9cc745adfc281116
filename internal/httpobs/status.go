// Package httpobs holds what both servers' request middleware share.
package httpobs

import "net/http"

// StatusWriter remembers the status code and body size of an answer, for
// the request's log line and metrics.
type StatusWriter struct {
	http.ResponseWriter
	Code  int
	Bytes int64
}

// WriteHeader records the first status code.
func (w *StatusWriter) WriteHeader(code int) {
	if w.Code == 0 {
		w.Code = code
	}
	w.ResponseWriter.WriteHeader(code)
}

// Write counts the body; a body without a header is a 200.
func (w *StatusWriter) Write(p []byte) (int, error) {
	if w.Code == 0 {
		w.Code = http.StatusOK
	}
	n, err := w.ResponseWriter.Write(p)
	w.Bytes += int64(n)
	return n, err
}

// Unwrap lets http.ResponseController reach the real writer (flush, deadlines).
func (w *StatusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
