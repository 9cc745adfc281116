package servecmd

import (
	"time"

	"github.com/spf13/pflag"

	"github.com/cowdisk/cowdisk/internal/health"
)

// healthTiming paces both servers' readiness checks alike.
type healthTiming struct{ interval, timeout time.Duration }

func (h *healthTiming) register(f *pflag.FlagSet) {
	f.DurationVar(&h.interval, "health-interval", health.DefaultInterval,
		"how often readiness (/readyz) is checked in the background")
	f.DurationVar(&h.timeout, "health-timeout", health.DefaultTimeout,
		"how long one readiness check (e.g. a Ceph round trip) may take before it counts as failed")
}
