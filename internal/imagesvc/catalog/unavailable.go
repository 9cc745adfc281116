package catalog

import (
	"context"
	"database/sql/driver"
	"errors"
	"fmt"
	"net"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/cowdisk/cowdisk/internal/errs"
)

// ErrUnreachable is in every error of a catalog whose database cannot be
// reached; its text is the reason told to clients (503), without the
// database's address.
var ErrUnreachable = fmt.Errorf("the image catalog's database is unreachable; retry later: %w", errs.ErrUnavailable)

// unavailable marks errors that mean "the database cannot be reached"
// with errs.ErrUnavailable (the API answers 503), leaving the others (a
// missing record, a bad filter, a conflict) as they are.
func (s *SQLCatalog) unavailable(err error) error {
	if err == nil || errors.Is(err, errs.ErrUnavailable) || !s.d.dollar {
		return err
	}
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		// Class 08 is connection exceptions; 57P01-3 the server shutting
		// down or not yet accepting connections.
		if pgErr.Code[:2] != "08" && pgErr.Code[:3] != "57P" {
			return err
		}
	} else if !isConnErr(err) {
		return err
	}
	return fmt.Errorf("%w: %w", ErrUnreachable, err)
}

func isConnErr(err error) bool {
	var ce *pgconn.ConnectError
	var ne net.Error
	return errors.As(err, &ce) || errors.As(err, &ne) || errors.Is(err, driver.ErrBadConn) ||
		pgconn.SafeToRetry(err) || (errors.Is(err, context.DeadlineExceeded) && !errors.Is(err, errs.ErrTimeout))
}
