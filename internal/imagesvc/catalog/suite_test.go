package catalog

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"

	"github.com/cowdisk/cowdisk/internal/ostest"
	"github.com/cowdisk/cowdisk/internal/testmode"
)

// The catalog suite runs every test below against both backends: SQLite
// files and databases of one throwaway PostgreSQL server started for the
// package (TestMain).
var (
	pg    *ostest.Postgres
	pgSeq atomic.Int64
)

func TestMain(m *testing.M) {
	if testmode.Unit() { // SQLite runs; the postgres backend skips (fresh)
		os.Exit(m.Run())
	}
	p, err := ostest.NewPostgres(context.Background())
	if err != nil {
		fmt.Fprintln(os.Stderr, "catalog tests need PostgreSQL:", err)
		os.Exit(1)
	}
	pg = p
	code := m.Run()
	if err := p.Close(); err != nil {
		fmt.Fprintln(os.Stderr, "postgres:", err)
	}
	os.Exit(code)
}

// backend makes empty catalogs of one kind.
type backend struct {
	name string
	// fresh is the --db value of a new empty catalog.
	fresh func(t *testing.T) string
	// bumpSchema claims a schema newer than any binary knows.
	bumpSchema string
}

var backends = []backend{
	{"sqlite", func(t *testing.T) string { return filepath.Join(t.TempDir(), "catalog.db") },
		"PRAGMA user_version = 99"},
	{"postgres", func(t *testing.T) string {
		testmode.Needs(t, "a PostgreSQL server")
		url, err := pg.CreateDatabase(context.Background(), fmt.Sprintf("t%d", pgSeq.Add(1)))
		if err != nil {
			t.Fatal(err)
		}
		return url
	}, "UPDATE cowdisk_schema SET version = 99"},
}

// opener gives a test an empty catalog, closed when the test ends.
type opener func(t *testing.T) *SQLCatalog

func (b backend) open(t *testing.T) *SQLCatalog { return openDSN(t, b.fresh(t)) }

func openDSN(t *testing.T, dsn string) *SQLCatalog {
	t.Helper()
	c, err := Open(context.Background(), dsn, PoolOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c.(*SQLCatalog)
}

// suite is every backend-independent catalog test.
var suite = map[string]func(t *testing.T, b backend){
	"ListFilters":         func(t *testing.T, b backend) { testListFilters(t, b.open) },
	"ListBadFilters":      func(t *testing.T, b backend) { testListBadFilters(t, b.open) },
	"ListMultiSortPaging": func(t *testing.T, b backend) { testListMultiSortPaging(t, b.open) },
	"ListMaxBytes":        func(t *testing.T, b backend) { testListMaxBytes(t, b.open) },
	"Usage":               func(t *testing.T, b backend) { testUsage(t, b.open) },
	"Members":             func(t *testing.T, b backend) { testMembers(t, b.open) },
	"ListPaging":          func(t *testing.T, b backend) { testListPagingAndVisibility(t, b.open) },
	"Persist":             testCreateGetUpdatePersist,
	"NewerSchemaRefused":  testNewerSchemaRefused,
	"ConcurrentUpdates":   testConcurrentUpdates,
	"TwoOpenersOneDB":     testTwoOpenersOneDB,
	"LeaseRoundTrip":      testLeaseRoundTrip,
	"Chunks":              func(t *testing.T, b backend) { testChunks(t, b.open) },
}

func TestSuite(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			for name, test := range suite {
				t.Run(name, func(t *testing.T) { test(t, b) })
			}
		})
	}
}
