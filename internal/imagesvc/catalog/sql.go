package catalog

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/cowdisk/cowdisk/internal/errs"
)

// dialect is what differs between the SQL backends. Queries are written
// once with ? placeholders; PostgreSQL gets them renumbered to $n.
type dialect struct {
	name   string
	dollar bool   // rewrite ? to $1, $2, ...
	lock   string // suffix of Update's SELECT that locks the row until commit
	// hasTag and hasProp are WHERE terms: the record's tags hold one
	// value; its properties map one key to one value.
	hasTag, hasProp string
}

var (
	sqliteDialect = dialect{name: "sqlite",
		hasTag: `EXISTS (SELECT 1 FROM json_each(images.tags) WHERE json_each.value = ?)`,
		hasProp: `EXISTS (SELECT 1 FROM json_each(images.properties)
			WHERE json_each.key = ? AND json_each.value = ?)`}
	postgresDialect = dialect{name: "postgres", dollar: true, lock: " FOR UPDATE",
		hasTag:  `images.tags::jsonb @> jsonb_build_array(CAST(? AS TEXT))`,
		hasProp: `(images.properties::jsonb ->> CAST(? AS TEXT)) = CAST(? AS TEXT)`}
)

// SQLCatalog is the catalog on an SQL database: SQLite (embedded, one
// host) or PostgreSQL (shared by replicas). Both run the same queries.
type SQLCatalog struct {
	raw *sql.DB
	db  querier // raw, with the dialect's placeholders
	d   dialect
}

// SQLite is the embedded catalog (kept as a name for its callers).
type SQLite = SQLCatalog

var _ Catalog = (*SQLCatalog)(nil)

type querier interface {
	ExecContext(ctx context.Context, q string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, q string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, q string, args ...any) *sql.Row
}

// rebound renumbers placeholders for dialects that need it. Our queries
// never hold a ? inside a string literal.
type rebound struct {
	q querier
	d dialect
}

func (r rebound) sql(q string) string {
	if !r.d.dollar {
		return q
	}
	var b strings.Builder
	n := 0
	for _, c := range q {
		if c == '?' {
			n++
			b.WriteString("$" + strconv.Itoa(n))
			continue
		}
		b.WriteRune(c)
	}
	return b.String()
}

func (r rebound) ExecContext(ctx context.Context, q string, args ...any) (sql.Result, error) {
	return r.q.ExecContext(ctx, r.sql(q), args...)
}

func (r rebound) QueryContext(ctx context.Context, q string, args ...any) (*sql.Rows, error) {
	return r.q.QueryContext(ctx, r.sql(q), args...)
}

func (r rebound) QueryRowContext(ctx context.Context, q string, args ...any) *sql.Row {
	return r.q.QueryRowContext(ctx, r.sql(q), args...)
}

func newSQLCatalog(db *sql.DB, d dialect) *SQLCatalog {
	return &SQLCatalog{raw: db, db: rebound{db, d}, d: d}
}

// Close closes the database.
func (s *SQLCatalog) Close() error { return s.raw.Close() }

// Ping checks the database answers (readiness).
func (s *SQLCatalog) Ping(ctx context.Context) error {
	if err := s.raw.PingContext(ctx); err != nil {
		return fmt.Errorf("%w (%s): %w", ErrUnreachable, s.d.name, err)
	}
	return nil
}

// Create inserts img; the primary key decides between racing replicas.
func (s *SQLCatalog) Create(ctx context.Context, img Image) error {
	n, err := insert(ctx, s.db, img)
	if err != nil {
		return fmt.Errorf("create image %s: %w", img.ID, s.unavailable(err))
	}
	if n == 0 {
		return fmt.Errorf("image %s: %w", img.ID, errs.ErrExists)
	}
	return nil
}

// Get returns the record with this id.
func (s *SQLCatalog) Get(ctx context.Context, id string) (Image, error) {
	img, err := get(ctx, s.db, id, "")
	return img, s.unavailable(err)
}

// Update runs fn on the current record inside one transaction. The row is
// locked from the read to the commit (PostgreSQL: SELECT ... FOR UPDATE;
// SQLite: BEGIN IMMEDIATE takes the write lock), and the write is also
// conditional on the version read, so replicas sharing the catalog never
// lose an update: a racing writer waits and then sees the winner's record.
func (s *SQLCatalog) Update(ctx context.Context, id string, fn func(*Image) error) (Image, error) {
	img, err := s.update(ctx, id, fn)
	return img, s.unavailable(err)
}

func (s *SQLCatalog) update(ctx context.Context, id string, fn func(*Image) error) (Image, error) {
	tx, err := s.raw.BeginTx(ctx, nil)
	if err != nil {
		return Image{}, fmt.Errorf("update image %s: %w", id, err)
	}
	defer tx.Rollback() // no-op after Commit
	q := rebound{tx, s.d}
	img, err := get(ctx, q, id, s.d.lock)
	if err != nil {
		return Image{}, err
	}
	read := img.Version
	if err := fn(&img); err != nil {
		return Image{}, err
	}
	img.ID, img.Version = id, read+1 // fn moves neither the record nor its version
	n, err := rewrite(ctx, q, img, read)
	if err != nil {
		return Image{}, fmt.Errorf("update image %s: %w", id, err)
	}
	if n == 0 {
		return Image{}, fmt.Errorf("image %s changed under this update (version %d): %w", id, read, errs.ErrConflict)
	}
	if err := writeChunks(ctx, q, img); err != nil {
		return Image{}, fmt.Errorf("update image %s: chunk list: %w", id, err)
	}
	img.Chunks = nil // written, not part of the record read back
	if err := tx.Commit(); err != nil {
		return Image{}, fmt.Errorf("update image %s: %w", id, err)
	}
	return img, nil
}

func get(ctx context.Context, q querier, id, lock string) (Image, error) {
	img, err := scan(q.QueryRowContext(ctx, "SELECT "+columns+" FROM images WHERE id = ?"+lock, id))
	if errors.Is(err, sql.ErrNoRows) {
		return Image{}, fmt.Errorf("image %s: %w", id, errs.ErrNotFound)
	}
	if err != nil {
		return Image{}, fmt.Errorf("get image %s: %w", id, err)
	}
	return img, nil
}

// Usage implements Catalog.
func (s *SQLCatalog) Usage(ctx context.Context, owner string) (int64, error) {
	var n int64
	err := s.db.QueryRowContext(ctx, `SELECT CAST(COALESCE(SUM(size), 0) AS BIGINT) FROM images
		WHERE owner = ? AND status != 'deleted'`, owner).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("storage used by project %s: %w", owner, s.unavailable(err))
	}
	return n, nil
}
