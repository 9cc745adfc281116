//go:build interop

package nova

import (
	"context"
	"errors"
	"path/filepath"
	"time"

	"github.com/cowdisk/cowdisk/internal/bench/procs"
)

// Bounds of a cowdisk server's life in these tests. Ready waits for the
// background Ceph connect and the start-up sweep, which may wait out a
// watch left by an earlier crashed run.
const (
	serverReadyIn = 90 * time.Second
	serverStopIn  = 15 * time.Second
)

// server is a `cowdisk serve ...` child process on a free loopback port.
type server struct {
	url  string
	proc *procs.Proc
}

// startServer runs `cowdisk serve <kind> args... --listen 127.0.0.1:PORT`
// with its log in dir and waits until /healthz answers 200.
func startServer(ctx context.Context, dir, kind string, args ...string) (*server, error) {
	return startServerEnv(ctx, dir, kind, nil, args...)
}

// startServerEnv is startServer with extra environment (KEY=VALUE).
func startServerEnv(ctx context.Context, dir, kind string, env []string, args ...string) (*server, error) {
	addr, err := procs.FreeAddr()
	if err != nil {
		return nil, err
	}
	args = append([]string{"serve", kind, "--listen", addr}, args...)
	p, err := procs.Start("cowdisk serve "+kind, cowdiskBin, args, env, filepath.Join(dir, kind+".log"))
	if err != nil {
		return nil, err
	}
	s := &server{url: "http://" + addr, proc: p}
	ctx, cancel := context.WithTimeout(ctx, serverReadyIn)
	defer cancel()
	if err := p.WaitHTTP(ctx, s.url+"/healthz"); err != nil {
		return nil, errors.Join(err, s.stop())
	}
	return s, nil
}

// stop ends the server by its pid: SIGTERM, then a kill after serverStopIn.
func (s *server) stop() error {
	if s == nil {
		return nil
	}
	return s.proc.Stop(serverStopIn)
}
