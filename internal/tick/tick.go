// Package tick runs background work at a steady interval for as long as a
// context lives: the renewal of leases, the sweeps of dead replicas' work.
package tick

import (
	"context"
	"time"
)

// Every calls f every d, first after d, until ctx ends or f returns false.
// A call that takes longer than d delays the next instead of piling them
// up (time.Ticker drops the ticks missed meanwhile).
func Every(ctx context.Context, d time.Duration, f func(context.Context) bool) {
	t := time.NewTicker(d)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if !f(ctx) {
			return
		}
	}
}
