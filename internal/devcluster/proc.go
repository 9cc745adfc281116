package devcluster

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/cowdisk/cowdisk/internal/backoff"
)

// stepTimeout bounds every external command: a ceph tool that cannot reach
// the monitor otherwise waits forever.
const stepTimeout = 30 * time.Second

// run executes one bootstrap command with a timeout and returns its stdout;
// on failure the error carries the command and its stderr so that a broken
// boot says which step broke.
func run(ctx context.Context, name string, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, stepTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Env = cleanEnv()
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		if ctx.Err() != nil {
			err = fmt.Errorf("%w after %s", ctx.Err(), stepTimeout)
		}
		return "", fmt.Errorf("%s %s: %w: %s", name, strings.Join(args, " "), err, strings.TrimSpace(errb.String()))
	}
	return out.String(), nil
}

// cleanEnv is our environment without CEPH_*: Ceph tools and daemons take
// CEPH_KEYRING and CEPH_ARGS over the config file, so a shell that points at
// another cluster (as `make test` exports) would make this one use the wrong
// key and fail with "permission denied".
func cleanEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "CEPH_") {
			env = append(env, kv)
		}
	}
	return env
}

// startDaemon runs a ceph daemon in the foreground (-f) in its own session,
// so that we know its real pid (a daemonizing start hides it) and it
// outlives the `cowdisk dev cluster up` process that started it.
func startDaemon(logPath, name string, args ...string) (int, error) {
	logf, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return 0, err
	}
	defer logf.Close()
	cmd := exec.Command(name, args...)
	cmd.Env = cleanEnv()
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := cmd.Start(); err != nil {
		return 0, fmt.Errorf("start %s: %w", name, err)
	}
	pid := cmd.Process.Pid
	// Reap it in the background when we are its parent (tests), so a killed
	// daemon does not linger as a zombie that still looks alive.
	go func() { _ = cmd.Wait() }()
	return pid, nil
}

// alive reports whether pid runs and is the daemon we started: its command
// line must mention our ceph.conf, so a recycled pid is never mistaken for it.
func alive(pid int, conf string) bool {
	if pid <= 0 {
		return false
	}
	b, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "cmdline"))
	if err != nil {
		return false
	}
	stat, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "stat"))
	if err == nil {
		// Field 3 is the state; a zombie has exited already.
		if f := strings.Fields(string(stat)); len(f) > 2 && f[2] == "Z" {
			return false
		}
	}
	return bytes.Contains(b, []byte(conf))
}

// stop sends SIGTERM, waits, then SIGKILL: a memstore OSD shuts down in well
// under a second, but one stuck on an unreachable monitor never does.
func stop(pid int, conf string, sig syscall.Signal) error {
	if !alive(pid, conf) {
		return nil
	}
	if err := syscall.Kill(pid, sig); err != nil && !errors.Is(err, syscall.ESRCH) {
		return fmt.Errorf("kill %d: %w", pid, err)
	}
	gone := func(context.Context, int) error {
		if alive(pid, conf) {
			return fmt.Errorf("pid %d still running", pid)
		}
		return nil
	}
	poll := backoff.Policy{Initial: 50 * time.Millisecond, MaxElapsed: 10 * time.Second}
	if poll.Retry(context.Background(), gone) == nil {
		return nil
	}
	_ = syscall.Kill(pid, syscall.SIGKILL)
	// SIGKILL cannot be refused: wait for the kernel as long as it takes,
	// as before, repeating the kill every 5 s.
	for {
		poll.MaxElapsed = 5 * time.Second
		if poll.Retry(context.Background(), gone) == nil {
			return nil
		}
		_ = syscall.Kill(pid, syscall.SIGKILL)
	}
}

// freePort asks the kernel for a free loopback port. There is a small race
// until the monitor binds it; a taken port then fails the boot clearly.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// portFree tells whether a chosen port can still be bound.
func portFree(port int) bool {
	l, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", port))
	if err != nil {
		return false
	}
	l.Close()
	return true
}

// freeRange finds n consecutive free ports for the OSD's messengers, so two
// dev clusters on one machine never share the default 6800-7300 range. It
// searches below the kernel's ephemeral range (32768 and up on Linux): a
// base picked there is soon surrounded by client connections' ports, and a
// busy machine (the load tests) then has no free run of n.
func freeRange(n int) (int, error) {
	const lo, hi = 20000, 32000
	for tries := 0; tries < 200; tries++ {
		base := lo + rand.IntN(hi-lo-n)
		ok := true
		for p := base; p < base+n && ok; p++ {
			ok = portFree(p)
		}
		if ok {
			return base, nil
		}
	}
	return 0, fmt.Errorf("no %d consecutive free ports in %d-%d for the OSD", n, lo, hi)
}
