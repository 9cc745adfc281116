package agent

import (
	"context"
	"errors"
	"net/http"

	"github.com/cowdisk/cowdisk/internal/errs"
	"github.com/cowdisk/cowdisk/internal/provisioner"
)

// status maps an error to its HTTP status and code. The order matters: an
// image-service failure is 502 even when it wraps ErrUnavailable, which on
// its own means Ceph is unreachable (503).
func status(err error) (int, string) {
	var isErr *provisioner.ImageServiceError
	switch {
	case errors.Is(err, errs.ErrInvalid), errors.Is(err, errs.ErrTooSmall), errors.Is(err, errs.ErrBadLocation):
		return http.StatusBadRequest, "invalid"
	case errors.Is(err, errs.ErrNotFound):
		return http.StatusNotFound, "not_found"
	case errors.Is(err, errs.ErrConflict), errors.Is(err, errs.ErrExists), errors.Is(err, errs.ErrInUse), errors.Is(err, errs.ErrBusy):
		return http.StatusConflict, "conflict"
	case errors.Is(err, errs.ErrUnsafeImage), errors.Is(err, errs.ErrFormatMismatch), errors.Is(err, errs.ErrRefused):
		return http.StatusUnprocessableEntity, "image_refused"
	case errors.As(err, &isErr), errors.Is(err, errs.ErrChecksum):
		return http.StatusBadGateway, "image_service"
	case errors.Is(err, errs.ErrPermission):
		return http.StatusForbidden, "forbidden"
	case errors.Is(err, errs.ErrUnavailable), errors.Is(err, errs.ErrTimeout), errors.Is(err, context.DeadlineExceeded):
		return http.StatusServiceUnavailable, "unavailable"
	}
	return http.StatusInternalServerError, "internal"
}
