package catalog

import (
	"context"
	"fmt"
	"net/url"
	"regexp"

	"github.com/cowdisk/cowdisk/internal/errs"
)

// schemeRE matches a URL scheme at the start of a --db value. A Windows
// drive letter is no concern here, so any scheme means a URL.
var schemeRE = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9+.-]*://`)

// Open opens the catalog named by db: a postgres:// or postgresql:// URL
// is the shared PostgreSQL catalog, anything without a scheme a SQLite
// file. Other schemes are refused rather than taken as a file name.
func Open(ctx context.Context, db string, o PoolOptions) (Catalog, error) {
	if db == "" {
		return nil, fmt.Errorf("catalog: no database given: %w", errs.ErrInvalid)
	}
	if !IsURL(db) {
		return OpenSQLite(ctx, db)
	}
	u, err := url.Parse(db)
	if err != nil {
		return nil, fmt.Errorf("catalog url: %w: %w", errs.ErrInvalid, err)
	}
	switch u.Scheme {
	case "postgres", "postgresql":
		return OpenPostgres(ctx, db, o)
	}
	return nil, fmt.Errorf("catalog %s://...: unknown scheme (want a SQLite file path or postgres://): %w",
		u.Scheme, errs.ErrInvalid)
}

// IsURL says db names a database server rather than a SQLite file.
func IsURL(db string) bool { return schemeRE.MatchString(db) }

// Redact is db fit for a log line: a URL's password is masked.
func Redact(db string) string {
	u, err := url.Parse(db)
	if !IsURL(db) || err != nil {
		return db
	}
	return u.Redacted()
}
