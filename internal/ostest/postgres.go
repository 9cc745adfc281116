package ostest

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // driver "pgx" for CreateDatabase and readiness

	"github.com/cowdisk/cowdisk/internal/backoff"
	"github.com/cowdisk/cowdisk/internal/bench/procs"
	"github.com/cowdisk/cowdisk/internal/testmode"
)

// PostgresBin holds Debian's postgresql 15 server binaries.
const PostgresBin = "/usr/lib/postgresql/15/bin"

const (
	postgresReadyIn = 60 * time.Second
	postgresStopIn  = 30 * time.Second
	postgresSuper   = "cowdisk" // superuser initdb makes; trust auth on loopback only
)

// Postgres is a throwaway PostgreSQL server: its own data directory, a
// free loopback port, the unix socket in its directory. As root it runs as
// the unprivileged postgres system user (the server refuses root).
type Postgres struct {
	Dir  string // data directory and socket live here
	Port int

	cred *syscall.Credential // nil when not root
	mu   sync.Mutex
	cmd  *exec.Cmd
	done chan struct{}
	log  *os.File
}

// StartPostgres starts a PostgreSQL for t and stops it in t.Cleanup. A
// missing package fails the test: it never skips, except in a unit run (-short),
// which starts nothing.
func StartPostgres(t testing.TB) *Postgres {
	t.Helper()
	testmode.Needs(t, "a PostgreSQL server")
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	p, err := NewPostgres(ctx)
	if err != nil {
		t.Fatalf("postgres: %v", err)
	}
	t.Cleanup(func() {
		if err := p.Close(); err != nil {
			t.Errorf("postgres: %v", err)
		}
	})
	return p
}

// NewPostgres makes a data directory with initdb and starts the server.
// Close stops it and removes the directory.
func NewPostgres(ctx context.Context) (*Postgres, error) {
	if _, err := os.Stat(filepath.Join(PostgresBin, "initdb")); err != nil {
		return nil, fmt.Errorf("PostgreSQL server not installed (Debian package postgresql, scripts/install-test-deps): %w", err)
	}
	dir, err := os.MkdirTemp("", "cowdisk-pg-")
	if err != nil {
		return nil, err
	}
	p := &Postgres{Dir: dir}
	if err := p.prepare(ctx); err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	if err := p.Start(ctx); err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	return p, nil
}

func (p *Postgres) prepare(ctx context.Context) error {
	if os.Geteuid() == 0 {
		u, err := user.Lookup("postgres")
		if err != nil {
			return fmt.Errorf("running as root needs the postgres system user: %w", err)
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		p.cred = &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}
		if err := os.Chown(p.Dir, uid, gid); err != nil {
			return err
		}
	}
	port, err := procs.FreePort()
	if err != nil {
		return err
	}
	p.Port = port
	out, err := p.command(ctx, "initdb", "-D", p.data(), "-U", postgresSuper, "--auth=trust",
		"--locale=C", "--encoding=UTF8", "--no-sync").CombinedOutput()
	if err != nil {
		return fmt.Errorf("initdb: %w: %s", err, tail(out))
	}
	return nil
}

func (p *Postgres) data() string { return filepath.Join(p.Dir, "data") }

func (p *Postgres) command(ctx context.Context, name string, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, filepath.Join(PostgresBin, name), args...)
	cmd.Dir = p.Dir
	cmd.Env = []string{"PATH=/usr/bin:/bin", "LC_ALL=C"}
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Credential: p.cred}
	return cmd
}

// Start starts the server (again, after Stop: same data, same port) and
// waits until it accepts connections.
func (p *Postgres) Start(ctx context.Context) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cmd != nil {
		return errors.New("postgres already running")
	}
	log, err := os.OpenFile(filepath.Join(p.Dir, "server.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	// Not CommandContext: the server outlives the start-up context.
	cmd := p.command(context.Background(), "postgres", "-D", p.data(), "-p", strconv.Itoa(p.Port),
		"-k", p.Dir, "-c", "listen_addresses=127.0.0.1", "-c", "fsync=off", "-c", "max_connections=200")
	cmd.Stdout, cmd.Stderr = log, log
	if err := cmd.Start(); err != nil {
		log.Close()
		return fmt.Errorf("start postgres: %w", err)
	}
	p.cmd, p.log, p.done = cmd, log, make(chan struct{})
	go func(done chan struct{}) { cmd.Wait(); close(done) }(p.done)
	return p.waitReady(ctx, p.done)
}

func (p *Postgres) waitReady(ctx context.Context, done chan struct{}) error {
	ctx, cancel := context.WithTimeout(ctx, postgresReadyIn)
	defer cancel()
	db, err := sql.Open("pgx", p.URL("postgres"))
	if err != nil {
		return err
	}
	defer db.Close()
	err = backoff.Policy{Initial: 50 * time.Millisecond}.Retry(ctx, func(ctx context.Context, _ int) error {
		select {
		case <-done:
			return backoff.Permanent(fmt.Errorf("postgres exited: %s", p.LogTail()))
		default:
		}
		return db.PingContext(ctx)
	})
	if err != nil && ctx.Err() != nil {
		return fmt.Errorf("postgres not ready in %s: %w; log: %s", postgresReadyIn, err, p.LogTail())
	}
	return err
}

// URL is the connection URL of database db over loopback TCP.
func (p *Postgres) URL(db string) string {
	return fmt.Sprintf("postgres://%s@127.0.0.1:%d/%s?sslmode=disable", postgresSuper, p.Port, db)
}

// CreateDatabase makes an empty database and returns its URL; tests take
// one each so they never see each other's rows.
func (p *Postgres) CreateDatabase(ctx context.Context, name string) (string, error) {
	db, err := sql.Open("pgx", p.URL("postgres"))
	if err != nil {
		return "", err
	}
	defer db.Close()
	// CREATE DATABASE takes no parameters; the name is quoted as an identifier.
	if _, err := db.ExecContext(ctx, `CREATE DATABASE "`+name+`"`); err != nil {
		return "", fmt.Errorf("create database %s: %w", name, err)
	}
	return p.URL(name), nil
}

// Stop shuts the server down (fast shutdown: SIGINT) and waits for it.
func (p *Postgres) Stop() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cmd == nil {
		return nil
	}
	p.cmd.Process.Signal(syscall.SIGINT)
	select {
	case <-p.done:
	case <-time.After(postgresStopIn):
		syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
		<-p.done
	}
	p.cmd = nil
	return p.log.Close()
}

// Close stops the server and removes its directory.
func (p *Postgres) Close() error {
	err := p.Stop()
	return errors.Join(err, os.RemoveAll(p.Dir))
}

// LogTail is the end of the server log, for failure messages.
func (p *Postgres) LogTail() string {
	b, _ := os.ReadFile(filepath.Join(p.Dir, "server.log"))
	return tail(b)
}
