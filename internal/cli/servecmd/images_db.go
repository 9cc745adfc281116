package servecmd

import (
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/spf13/pflag"

	"github.com/cowdisk/cowdisk/internal/errs"
	"github.com/cowdisk/cowdisk/internal/imagesvc"
	"github.com/cowdisk/cowdisk/internal/imagesvc/api"
	"github.com/cowdisk/cowdisk/internal/imagesvc/catalog"
)

// registerDBFlags adds the catalog's connection pool bounds (PostgreSQL;
// a SQLite catalog has one connection and ignores them).
func registerDBFlags(f *pflag.FlagSet, cfg *imagesvc.Config) {
	registerReplicaFlags(f, &cfg.Replica, &cfg.LeaseTTL)
	o := &cfg.DBPool
	d := catalog.DefaultPoolOptions
	f.IntVar(&o.MaxConns, "db-max-conns", d.MaxConns, "PostgreSQL catalog: open connections at most, per replica")
	f.DurationVar(&o.ConnectTimeout, "db-connect-timeout", d.ConnectTimeout, "PostgreSQL catalog: one connection attempt at most")
	f.DurationVar(&o.StatementTimeout, "db-statement-timeout", d.StatementTimeout, "PostgreSQL catalog: one statement at most")
	f.DurationVar(&o.MaxConnIdle, "db-max-conn-idle", d.MaxConnIdle, "PostgreSQL catalog: close a connection idle this long")
}

// maxDBConns bounds --db-max-conns: PostgreSQL's own default limit is 100
// connections for every replica together.
const maxDBConns = 1000

// prepareDB checks the catalog flags and makes the directory of a SQLite
// catalog file; a URL (a shared catalog) has none to make.
func prepareDB(cfg imagesvc.Config) error {
	p := cfg.DBPool
	switch {
	case p.MaxConns < 1 || p.MaxConns > maxDBConns:
		return fmt.Errorf("--db-max-conns %d: want 1 to %d: %w", p.MaxConns, maxDBConns, errs.ErrInvalid)
	case p.ConnectTimeout <= 0, p.StatementTimeout <= 0, p.MaxConnIdle <= 0:
		return fmt.Errorf("--db-connect-timeout, --db-statement-timeout and --db-max-conn-idle must be positive: %w",
			errs.ErrInvalid)
	case cfg.LeaseTTL < 3*time.Second:
		// Renewed every third of it: shorter leases flood the catalog.
		return fmt.Errorf("--lease-ttl %s: want at least 3s: %w", cfg.LeaseTTL, errs.ErrInvalid)
	}
	if catalog.IsURL(cfg.DB) {
		return nil
	}
	return os.MkdirAll(filepath.Dir(cfg.DB), 0o750)
}

// registerReplicaFlags adds how this process names itself in the catalog's
// leases and how long they last: another replica sweeps a dead one's
// uploads and deletes once its leases expire.
func registerReplicaFlags(f *pflag.FlagSet, replica *string, ttl *time.Duration) {
	f.StringVar(replica, "replica", "", "name of this replica in upload and delete leases (default: random)")
	f.DurationVar(ttl, "lease-ttl", api.DefaultLeaseTTL,
		"how long a replica's lease on an upload or delete lasts unrenewed before another replica sweeps it")
}
