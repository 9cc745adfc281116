package catalog

import (
	"context"
	"database/sql"
	"fmt"
	"net/url"

	"github.com/cowdisk/cowdisk/internal/errs"

	_ "modernc.org/sqlite" // registers driver "sqlite" (pure Go, no cgo)
)

// migrations are applied in order; PRAGMA user_version records how many ran.
// Append only: never edit a step that has shipped.
var migrations = []string{
	`CREATE TABLE images (
		id               TEXT PRIMARY KEY,
		name             TEXT,
		status           TEXT NOT NULL,
		disk_format      TEXT,
		container_format TEXT,
		size             INTEGER,
		virtual_size     INTEGER,
		checksum         TEXT,
		os_hash_algo     TEXT,
		os_hash_value    TEXT,
		owner            TEXT NOT NULL,
		visibility       TEXT NOT NULL,
		protected        INTEGER NOT NULL DEFAULT 0,
		min_disk         INTEGER NOT NULL DEFAULT 0,
		min_ram          INTEGER NOT NULL DEFAULT 0,
		tags             TEXT NOT NULL DEFAULT '[]',
		properties       TEXT NOT NULL DEFAULT '{}',
		locations        TEXT NOT NULL DEFAULT '[]',
		created_at       INTEGER NOT NULL,
		updated_at       INTEGER NOT NULL
	);
	CREATE INDEX images_owner ON images(owner);
	CREATE INDEX images_created ON images(created_at, id);`,
	`CREATE TABLE members (
		image_id   TEXT NOT NULL REFERENCES images(id),
		project    TEXT NOT NULL,
		status     TEXT NOT NULL,
		created_at INTEGER NOT NULL,
		updated_at INTEGER NOT NULL,
		PRIMARY KEY (image_id, project)
	);
	CREATE INDEX members_project ON members(project, status);`,
	// os_hidden (Glance's hidden images): self-contained, may run in any
	// order with other appended column additions.
	`ALTER TABLE images ADD COLUMN os_hidden INTEGER NOT NULL DEFAULT 0;`,
	// version: Update's compare-and-set.
	`ALTER TABLE images ADD COLUMN version INTEGER NOT NULL DEFAULT 0;`,
	// Leases of replicas on uploads and deletes (see Lease).
	`ALTER TABLE images ADD COLUMN prev_status TEXT NOT NULL DEFAULT '';
	ALTER TABLE images ADD COLUMN lease_owner TEXT NOT NULL DEFAULT '';
	ALTER TABLE images ADD COLUMN lease_until INTEGER NOT NULL DEFAULT 0;`,
	// Chunk lists (see Chunks), one row per image that has one.
	`CREATE TABLE image_chunks (
		image_id   TEXT PRIMARY KEY REFERENCES images(id),
		chunk_size INTEGER NOT NULL,
		digests    BLOB NOT NULL
	);`,
	// Data spans of chunk lists (chunklist.AppendSpan); NULL for lists
	// recorded before them.
	`ALTER TABLE image_chunks ADD COLUMN spans BLOB;`,
}

// OpenSQLite opens (creating if needed) the catalog file at path and brings
// its schema up to date. path ":memory:" gives a private in-memory catalog.
func OpenSQLite(ctx context.Context, path string) (*SQLite, error) {
	q := url.Values{}
	q.Add("_pragma", "busy_timeout(5000)")
	q.Add("_pragma", "foreign_keys(1)")
	if path != ":memory:" {
		q.Add("_pragma", "journal_mode(WAL)")
		q.Add("_pragma", "synchronous(NORMAL)")
	}
	q.Set("_txlock", "immediate")
	db, err := sql.Open("sqlite", "file:"+path+"?"+q.Encode())
	if err != nil {
		return nil, fmt.Errorf("open catalog %s: %w", path, err)
	}
	// One connection serialises all access in this process: the catalog is
	// tiny and writes are rare, and it makes Update's read-modify-write
	// atomic without retry loops (and keeps ":memory:" one database).
	db.SetMaxOpenConns(1)
	s := newSQLCatalog(db, sqliteDialect)
	if err := migrateSQLite(ctx, db); err != nil {
		db.Close()
		return nil, fmt.Errorf("migrate catalog %s: %w", path, err)
	}
	return s, nil
}

func migrateSQLite(ctx context.Context, db *sql.DB) error {
	var version int
	if err := db.QueryRowContext(ctx, "PRAGMA user_version").Scan(&version); err != nil {
		return err
	}
	if version > len(migrations) {
		return fmt.Errorf("catalog schema version %d is newer than this binary (%d): %w",
			version, len(migrations), errs.ErrInvalid)
	}
	for i := version; i < len(migrations); i++ {
		tx, err := db.BeginTx(ctx, nil)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, migrations[i]); err != nil {
			tx.Rollback()
			return fmt.Errorf("migration %d: %w", i+1, err)
		}
		// PRAGMA does not take parameters; i+1 is our own integer.
		if _, err := tx.ExecContext(ctx, fmt.Sprintf("PRAGMA user_version = %d", i+1)); err != nil {
			tx.Rollback()
			return err
		}
		if err := tx.Commit(); err != nil {
			return err
		}
	}
	return nil
}
