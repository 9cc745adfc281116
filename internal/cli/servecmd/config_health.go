package servecmd

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/spf13/pflag"

	"github.com/cowdisk/cowdisk/internal/agent"
	"github.com/cowdisk/cowdisk/internal/ceph"
	"github.com/cowdisk/cowdisk/internal/health"
)

// healthTiming paces both servers' readiness checks alike, and says
// whether a replaced cluster ends the process.
type healthTiming struct {
	interval, timeout time.Duration
	exitWhenReplaced  bool
}

func (h *healthTiming) register(f *pflag.FlagSet) {
	f.DurationVar(&h.interval, "health-interval", health.DefaultInterval,
		"how often readiness (/readyz) is checked in the background")
	f.DurationVar(&h.timeout, "health-timeout", health.DefaultTimeout,
		"how long one readiness check (e.g. a Ceph round trip) may take before it counts as failed")
	f.BoolVar(&h.exitWhenReplaced, "exit-when-replaced", false,
		"exit with an error (after running requests finish) when the Ceph cluster is found replaced, "+
			"so a supervisor (systemd Restart=on-failure) restarts the server against the new one")
}

// exitOnReplaced, with --exit-when-replaced, turns the agent's finding of a
// replaced cluster into a fatal error for serveHTTP: running requests
// finish, the process exits with an error, its supervisor restarts it.
func (h healthTiming) exitOnReplaced(ctx context.Context, srv *agent.Server, fatal chan<- error) {
	if !h.exitWhenReplaced {
		return
	}
	replaced := srv.StopOn(func(err error) bool { return errors.Is(err, ceph.ErrReplaced) })
	go func() {
		select {
		case err := <-replaced:
			select {
			case fatal <- fmt.Errorf("node agent: %w", err):
			default: // another fatal error is already on its way
			}
		case <-ctx.Done():
		}
	}()
}
