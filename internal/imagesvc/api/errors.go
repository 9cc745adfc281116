package api

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"

	"github.com/cowdisk/cowdisk/internal/errs"
	"github.com/cowdisk/cowdisk/internal/imagesvc/catalog"
)

// httpError carries a status the sentinels cannot express (401, 410, 413,
// 415); everything else is mapped from errs in status().
type httpError struct {
	code int
	msg  string
}

func (e *httpError) Error() string { return e.msg }

func statusErr(code int, format string, args ...any) error {
	return &httpError{code: code, msg: fmt.Sprintf(format, args...)}
}

// status maps an error to an HTTP status. This table is the one place
// where storage and catalog errors meet HTTP.
func status(err error) int {
	var he *httpError
	var mbe *http.MaxBytesError
	switch {
	case errors.As(err, &he):
		return he.code
	case errors.As(err, &mbe):
		return http.StatusRequestEntityTooLarge
	case errors.Is(err, errs.ErrNotFound):
		return http.StatusNotFound
	case errors.Is(err, errs.ErrExists), errors.Is(err, errs.ErrConflict),
		errors.Is(err, errs.ErrInUse), errors.Is(err, errs.ErrBusy):
		return http.StatusConflict
	case errors.Is(err, errs.ErrPermission), errors.Is(err, errs.ErrRefused):
		return http.StatusForbidden
	// Glance answers 400 for image data it refuses (format mismatch,
	// unsafe content, size or checksum mismatch), so clients written for
	// Glance see the same code here.
	case errors.Is(err, errs.ErrInvalid), errors.Is(err, errs.ErrFormatMismatch),
		errors.Is(err, errs.ErrUnsafeImage), errors.Is(err, errs.ErrChecksum),
		errors.Is(err, errs.ErrTooSmall), errors.Is(err, errs.ErrBadLocation):
		return http.StatusBadRequest
	case errors.Is(err, errs.ErrTimeout), errors.Is(err, errs.ErrUnavailable):
		return http.StatusServiceUnavailable
	}
	return http.StatusInternalServerError
}

// writeError answers with Glance's error body. Internal errors are logged
// in full and answered with the request id only: their text may name pools,
// paths or SQL.
func (s *Server) writeError(w http.ResponseWriter, r *http.Request, err error) {
	code := status(err)
	msg := err.Error()
	if errors.Is(err, catalog.ErrUnreachable) { // the reason, not the database's address
		logger(r).Warn("request failed", "err", err)
		msg = catalog.ErrUnreachable.Error()
	} else if code >= 500 && !reasonTold(err) {
		logger(r).Error("request failed", "err", err)
		msg = "internal error; see the service log for request " + w.Header().Get(requestIDHeader)
	} else {
		logger(r).Info("request refused", "status", code, "err", err)
	}
	writeGlanceError(w, r, code, msg)
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=UTF-8")
	w.WriteHeader(code)
	json.NewEncoder(w).Encode(v)
}

// answer writes err, or else v with code: the common end of a handler.
func (s *Server) answer(w http.ResponseWriter, r *http.Request, err error, code int, v any) {
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, code, v)
}
