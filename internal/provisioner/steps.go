package provisioner

import (
	"context"
	"maps"
	"sync"
	"time"
)

// Step names one stage of Create; the agent exports each as a histogram and
// the benchmark reports them, so a slow create says where its time went.
type Step string

const (
	StepLookup   Step = "lookup"   // repeat check and the image record
	StepDecision Step = "decision" // location checks, source inspection, parent stat
	StepClone    Step = "clone"    // journal intent and clone in place (or fetch and import)
	StepResize   Step = "resize"   // flatten at the hard depth, grow, metadata and completion marker
	StepPublish  Step = "publish"  // settle the journal record (an import: the rename first)
)

// Steps lists the steps in the order Create runs them.
var Steps = []Step{StepLookup, StepDecision, StepClone, StepResize, StepPublish}

// stepClock times the steps of one Create: each mark charges the time since
// the previous mark to a step. It rides on the context so the helpers Create
// calls mark their own steps without an extra parameter.
// A base's fetch runs on a context derived from its first caller's, so
// marks may come from another goroutine: hence the lock.
type stepClock struct {
	mu    sync.Mutex
	last  time.Time
	times map[Step]time.Duration
}

type stepKey struct{}

func withStepClock(ctx context.Context) (context.Context, *stepClock) {
	c := &stepClock{last: time.Now(), times: map[Step]time.Duration{}}
	return context.WithValue(ctx, stepKey{}, c), c
}

// mark charges the time since the last mark to s (no-op without a clock).
func mark(ctx context.Context, s Step) {
	c, ok := ctx.Value(stepKey{}).(*stepClock)
	if !ok {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	now := time.Now()
	c.times[s] += now.Sub(c.last)
	c.last = now
}

// snapshot returns the times so far.
func (c *stepClock) snapshot() map[Step]time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	return maps.Clone(c.times)
}
