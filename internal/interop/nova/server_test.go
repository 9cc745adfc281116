//go:build interop

package nova

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"time"
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
	name, url, log string
	cmd            *exec.Cmd
	done           chan struct{}
}

// startServer runs `cowdisk serve <kind> args... --listen 127.0.0.1:PORT`
// with its log in dir and waits until /healthz answers 200.
func startServer(ctx context.Context, dir, kind string, args ...string) (*server, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	addr := l.Addr().String()
	l.Close()
	s := &server{name: kind, url: "http://" + addr, log: filepath.Join(dir, kind+".log")}
	log, err := os.Create(s.log)
	if err != nil {
		return nil, err
	}
	defer log.Close()
	s.cmd = exec.Command(cowdiskBin, append([]string{"serve", kind, "--listen", addr}, args...)...)
	s.cmd.Stdout, s.cmd.Stderr = log, log
	s.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := s.cmd.Start(); err != nil {
		return nil, fmt.Errorf("cowdisk serve %s: %w", kind, err)
	}
	s.done = make(chan struct{})
	go func() { _ = s.cmd.Wait(); close(s.done) }()
	if err := s.waitReady(ctx); err != nil {
		return nil, errors.Join(err, s.stop())
	}
	return s, nil
}

func (s *server) waitReady(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, serverReadyIn)
	defer cancel()
	c := &http.Client{Timeout: 2 * time.Second}
	for {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, s.url+"/healthz", nil)
		if resp, err := c.Do(req); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		select {
		case <-s.done:
			return fmt.Errorf("cowdisk serve %s exited before it was ready: %s", s.name, s.logTail())
		case <-ctx.Done():
			return fmt.Errorf("cowdisk serve %s at %s not ready: %w: %s", s.name, s.url, ctx.Err(), s.logTail())
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// stop ends the server by its pid: SIGTERM, then SIGKILL after serverStopIn.
func (s *server) stop() error {
	if s == nil || s.cmd == nil {
		return nil
	}
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.done:
		return nil
	case <-time.After(serverStopIn):
		_ = syscall.Kill(-s.cmd.Process.Pid, syscall.SIGKILL)
		<-s.done
		return fmt.Errorf("cowdisk serve %s (pid %d) ignored SIGTERM; killed", s.name, s.cmd.Process.Pid)
	}
}

func (s *server) logTail() string {
	b, _ := os.ReadFile(s.log)
	if len(b) > 3000 {
		b = b[len(b)-3000:]
	}
	return string(bytes.TrimSpace(b))
}
