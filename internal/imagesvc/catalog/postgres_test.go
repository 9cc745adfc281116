package catalog

import (
	"context"
	"database/sql"
	"sync"
	"testing"
)

// TestPostgresMigratesVersion1: a PostgreSQL catalog made by the first
// schema version gains the lease columns on open and keeps its images.
func TestPostgresMigratesVersion1(t *testing.T) {
	ctx := context.Background()
	dsn := backends[1].fresh(t)
	db, err := sql.Open("pgx", dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	id := "00000000-0000-4000-8000-000000000001"
	for _, q := range []string{pgMigrations[0],
		"CREATE TABLE cowdisk_schema (version INTEGER NOT NULL)", "INSERT INTO cowdisk_schema VALUES (1)",
		`INSERT INTO images (id, status, owner, visibility, created_at, updated_at)
			VALUES ('` + id + `', 'saving', 'projecta', 'private', 0, 0)`} {
		if _, err := db.ExecContext(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	c := openDSN(t, dsn)
	img, err := c.Get(ctx, id)
	if err != nil || img.Status != StatusSaving || img.Lease != (Lease{}) {
		t.Fatalf("after migration: %+v %v", img, err)
	}
	var v int
	if err := db.QueryRowContext(ctx, "SELECT version FROM cowdisk_schema").Scan(&v); err != nil || v != len(pgMigrations) {
		t.Fatalf("schema version %d %v, want %d", v, err, len(pgMigrations))
	}
}

// TestPostgresReplicasMigrateAtOnce: replicas starting together on an
// empty database all open it; the advisory lock lets one migrate.
func TestPostgresReplicasMigrateAtOnce(t *testing.T) {
	dsn := backends[1].fresh(t)
	var wg sync.WaitGroup
	errs := make([]error, 6)
	for i := range errs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c, err := Open(context.Background(), dsn, PoolOptions{})
			if err == nil {
				c.Close()
			}
			errs[i] = err
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("replica %d: %v", i, err)
		}
	}
}
