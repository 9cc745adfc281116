package catalog

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"

	"github.com/cowdisk/cowdisk/internal/errs"
)

// pgMigrations are the PostgreSQL schema steps; cowdisk_schema records how
// many ran. Append only. Text columns use the C collation so that order
// (and keyset paging) is bytewise, as in SQLite, whatever the server's
// locale.
var pgMigrations = []string{
	`CREATE TABLE images (
		id               TEXT COLLATE "C" PRIMARY KEY,
		name             TEXT COLLATE "C",
		status           TEXT COLLATE "C" NOT NULL,
		disk_format      TEXT COLLATE "C",
		container_format TEXT COLLATE "C",
		size             BIGINT,
		virtual_size     BIGINT,
		checksum         TEXT,
		os_hash_algo     TEXT,
		os_hash_value    TEXT,
		owner            TEXT COLLATE "C" NOT NULL,
		visibility       TEXT COLLATE "C" NOT NULL,
		protected        BOOLEAN NOT NULL DEFAULT false,
		min_disk         INTEGER NOT NULL DEFAULT 0,
		min_ram          INTEGER NOT NULL DEFAULT 0,
		tags             TEXT NOT NULL DEFAULT '[]',
		properties       TEXT NOT NULL DEFAULT '{}',
		locations        TEXT NOT NULL DEFAULT '[]',
		created_at       BIGINT NOT NULL,
		updated_at       BIGINT NOT NULL,
		os_hidden        BOOLEAN NOT NULL DEFAULT false,
		version          BIGINT NOT NULL DEFAULT 0
	);
	CREATE INDEX images_owner ON images(owner);
	CREATE INDEX images_created ON images(created_at, id);
	CREATE INDEX images_status ON images(status);
	CREATE TABLE members (
		image_id   TEXT COLLATE "C" NOT NULL REFERENCES images(id),
		project    TEXT COLLATE "C" NOT NULL,
		status     TEXT COLLATE "C" NOT NULL,
		created_at BIGINT NOT NULL,
		updated_at BIGINT NOT NULL,
		PRIMARY KEY (image_id, project)
	);
	CREATE INDEX members_project ON members(project, status);`,
	// Leases of replicas on uploads and deletes (see Lease).
	`ALTER TABLE images ADD COLUMN prev_status TEXT NOT NULL DEFAULT '';
	ALTER TABLE images ADD COLUMN lease_owner TEXT NOT NULL DEFAULT '';
	ALTER TABLE images ADD COLUMN lease_until BIGINT NOT NULL DEFAULT 0;`,
	// Chunk lists (see Chunks), one row per image that has one.
	`CREATE TABLE image_chunks (
		image_id   TEXT COLLATE "C" PRIMARY KEY REFERENCES images(id),
		chunk_size BIGINT NOT NULL,
		digests    BYTEA NOT NULL
	);`,
	// Data spans of chunk lists (chunklist.AppendSpan); NULL for lists
	// recorded before them.
	`ALTER TABLE image_chunks ADD COLUMN spans BYTEA;`,
}

// PoolOptions bound the PostgreSQL connection pool. Zero fields take the
// defaults of DefaultPoolOptions.
type PoolOptions struct {
	MaxConns         int           // open connections at most
	ConnectTimeout   time.Duration // one connection attempt
	StatementTimeout time.Duration // one statement, server side
	MaxConnIdle      time.Duration // an idle connection is closed after
}

// DefaultPoolOptions suit one replica of a small cloud.
var DefaultPoolOptions = PoolOptions{MaxConns: 16, ConnectTimeout: 5 * time.Second,
	StatementTimeout: 30 * time.Second, MaxConnIdle: 5 * time.Minute}

func (o PoolOptions) withDefaults() PoolOptions {
	d := DefaultPoolOptions
	if o.MaxConns > 0 {
		d.MaxConns = o.MaxConns
	}
	if o.ConnectTimeout > 0 {
		d.ConnectTimeout = o.ConnectTimeout
	}
	if o.StatementTimeout > 0 {
		d.StatementTimeout = o.StatementTimeout
	}
	if o.MaxConnIdle > 0 {
		d.MaxConnIdle = o.MaxConnIdle
	}
	return d
}

// OpenPostgres connects to the catalog database at url (postgres://...)
// and brings its schema up to date. Replicas may open it at once: the
// migration holds an advisory lock.
func OpenPostgres(ctx context.Context, url string, o PoolOptions) (*SQLCatalog, error) {
	o = o.withDefaults()
	cfg, err := pgx.ParseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("catalog url: %w: %w", errs.ErrInvalid, err)
	}
	cfg.ConnectTimeout = o.ConnectTimeout
	cfg.RuntimeParams["statement_timeout"] = fmt.Sprint(o.StatementTimeout.Milliseconds())
	cfg.RuntimeParams["application_name"] = "cowdisk-images"
	db := stdlib.OpenDB(*cfg)
	db.SetMaxOpenConns(o.MaxConns)
	db.SetMaxIdleConns(o.MaxConns)
	db.SetConnMaxIdleTime(o.MaxConnIdle)
	s := newSQLCatalog(db, postgresDialect)
	if err := migratePostgres(ctx, db); err != nil {
		db.Close()
		return nil, fmt.Errorf("migrate catalog on %s:%d/%s: %w", cfg.Host, cfg.Port, cfg.Database, s.unavailable(err))
	}
	return s, nil
}

// pgMigrateLock is the advisory lock id that serialises migrations.
const pgMigrateLock = 0x636f77646b // "cowdk"

func migratePostgres(ctx context.Context, db *sql.DB) error {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	for _, q := range []string{
		"SELECT pg_advisory_xact_lock(" + fmt.Sprint(pgMigrateLock) + ")",
		"CREATE TABLE IF NOT EXISTS cowdisk_schema (version INTEGER NOT NULL)",
		"INSERT INTO cowdisk_schema SELECT 0 WHERE NOT EXISTS (SELECT 1 FROM cowdisk_schema)",
	} {
		if _, err := tx.ExecContext(ctx, q); err != nil {
			return err
		}
	}
	var version int
	if err := tx.QueryRowContext(ctx, "SELECT version FROM cowdisk_schema").Scan(&version); err != nil {
		return err
	}
	if version > len(pgMigrations) {
		return fmt.Errorf("catalog schema version %d is newer than this binary (%d): %w",
			version, len(pgMigrations), errs.ErrInvalid)
	}
	for i := version; i < len(pgMigrations); i++ {
		if _, err := tx.ExecContext(ctx, pgMigrations[i]); err != nil {
			return fmt.Errorf("migration %d: %w", i+1, err)
		}
	}
	if _, err := tx.ExecContext(ctx, "UPDATE cowdisk_schema SET version = $1", len(pgMigrations)); err != nil {
		return err
	}
	return tx.Commit()
}
