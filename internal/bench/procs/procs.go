// Package procs starts cowdisk's servers as child processes, the way an
// operator would run them, waits until they answer, reads their memory from
// /proc, and stops them again.
package procs

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Proc is one running child.
type Proc struct {
	Name string
	Log  string // its stdout and stderr
	cmd  *exec.Cmd
	done chan error
}

// Start runs bin with args and extra environment, output to logPath. The
// child is not tied to ctx: it lives until Stop, so a cancelled benchmark
// still gets to stop it gracefully.
func Start(name, bin string, args, env []string, logPath string) (*Proc, error) {
	f, err := os.Create(logPath)
	if err != nil {
		return nil, fmt.Errorf("%s log: %w", name, err)
	}
	cmd := exec.Command(bin, args...)
	cmd.Env = append(os.Environ(), env...)
	cmd.Stdout, cmd.Stderr = f, f
	// Own process group: a Ctrl-C at the terminal reaches the bench, which
	// then stops its children in order instead of all dying at once.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		f.Close()
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	p := &Proc{Name: name, Log: logPath, cmd: cmd, done: make(chan error, 1)}
	go func() { p.done <- cmd.Wait(); f.Close() }()
	return p, nil
}

// PID of the child.
func (p *Proc) PID() int { return p.cmd.Process.Pid }

// WaitHTTP polls url until it answers 200, the child exits, or ctx ends.
func (p *Proc) WaitHTTP(ctx context.Context, url string) error {
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if resp, err := http.DefaultClient.Do(req); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		select {
		case err := <-p.done:
			p.done <- err
			return fmt.Errorf("%s exited before answering on %s (%v); log %s:\n%s", p.Name, url, err, p.Log, Tail(p.Log, 20))
		case <-ctx.Done():
			return fmt.Errorf("%s not answering on %s: %w; log %s:\n%s", p.Name, url, ctx.Err(), p.Log, Tail(p.Log, 20))
		case <-tick.C:
		}
	}
}

// Stop sends SIGTERM, waits up to grace, then kills. It is safe to call twice.
func (p *Proc) Stop(grace time.Duration) error {
	if p == nil {
		return nil
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-p.done:
		p.done <- err
		return exitErr(err)
	case <-time.After(grace):
		_ = p.cmd.Process.Kill()
		err := <-p.done
		p.done <- err
		return fmt.Errorf("%s did not stop within %s; killed", p.Name, grace)
	}
}

// exitErr treats death by our own SIGTERM as a clean stop.
func exitErr(err error) error {
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() && ws.Signal() == syscall.SIGTERM {
			return nil
		}
	}
	return err
}

// ResetPeakRSS resets the kernel's high-water mark of the process's resident
// set (clear_refs "5", Linux ≥ 4.0), so VmHWM afterwards is the peak of what
// happens next rather than of the whole process life.
func ResetPeakRSS(pid int) error {
	if err := os.WriteFile(fmt.Sprintf("/proc/%d/clear_refs", pid), []byte("5"), 0); err != nil {
		return fmt.Errorf("reset peak RSS of %d: %w", pid, err)
	}
	return nil
}

// PeakRSS reads VmHWM (peak resident set) of pid in bytes.
func PeakRSS(pid int) (uint64, error) { return statusField(pid, "VmHWM") }

func statusField(pid int, field string) (uint64, error) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, fmt.Errorf("read status of %d: %w", pid, err)
	}
	defer f.Close()
	return parseStatusKB(bufio.NewScanner(f), field)
}

func parseStatusKB(sc *bufio.Scanner, field string) (uint64, error) {
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if !ok || k != field {
			continue
		}
		kb, err := strconv.ParseUint(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
		if err != nil {
			return 0, fmt.Errorf("%s %q: %w", field, v, err)
		}
		return kb << 10, nil
	}
	return 0, fmt.Errorf("no %s in status", field)
}

// FreeAddr returns a 127.0.0.1 address with a port free right now.
func FreeAddr() (string, error) {
	port, err := FreePort()
	if err != nil {
		return "", err
	}
	return net.JoinHostPort("127.0.0.1", strconv.Itoa(port)), nil
}

// FreePort is a loopback TCP port free at the time of asking.
func FreePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("find a free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// Tail returns the last n lines of a file, for error messages.
func Tail(path string, n int) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return ""
	}
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}

// clockTicks is USER_HZ, 100 on every Linux architecture Go runs on; the
// kernel reports /proc/<pid>/stat times in it regardless of CONFIG_HZ.
const clockTicks = 100

// CPUSeconds is the user+system CPU time pid has used so far. Differences
// around a request tell whether a slow path was busy or waiting.
func CPUSeconds(pid int) (float64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, fmt.Errorf("read stat of %d: %w", pid, err)
	}
	return parseStatCPU(string(b))
}

// parseStatCPU reads utime and stime (fields 14 and 15). The command name
// (field 2) may hold spaces and parentheses, so fields count from the last ')'.
func parseStatCPU(stat string) (float64, error) {
	i := strings.LastIndexByte(stat, ')')
	if i < 0 {
		return 0, fmt.Errorf("stat %q: no command field", stat)
	}
	f := strings.Fields(stat[i+1:]) // f[0] is field 3 (state)
	if len(f) < 13 {
		return 0, fmt.Errorf("stat %q: too few fields", stat)
	}
	var ticks uint64
	for _, s := range f[11:13] {
		n, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			return 0, fmt.Errorf("stat cpu field %q: %w", s, err)
		}
		ticks += n
	}
	return float64(ticks) / clockTicks, nil
}

// ClientCPUSeconds is the user+system CPU time of this process and of the
// children it has waited for (rbd, qemu-img: the baselines' tools). Running
// children (the servers) are not in it; CPUSeconds reads those.
func ClientCPUSeconds() (float64, error) {
	var total float64
	for _, who := range []int{syscall.RUSAGE_SELF, syscall.RUSAGE_CHILDREN} {
		var ru syscall.Rusage
		if err := syscall.Getrusage(who, &ru); err != nil {
			return 0, fmt.Errorf("getrusage: %w", err)
		}
		total += tvSeconds(ru.Utime) + tvSeconds(ru.Stime)
	}
	return total, nil
}

func tvSeconds(tv syscall.Timeval) float64 { return float64(tv.Sec) + float64(tv.Usec)/1e6 }
