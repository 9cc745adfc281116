package ceph

import (
	"testing"
	"time"

	"github.com/ceph/go-ceph/rbd"
)

// Which calls the gate serializes: unknown, risky, expired, forgotten and
// risky-child clones take the lock; images seen with layering only do not.
func TestOpenGate(t *testing.T) {
	const layering, full = rbd.FeatureLayering, rbd.FeatureLayering | rbd.FeatureExclusiveLock | rbd.FeatureObjectMap
	for _, tc := range []struct {
		name   string
		prep   func(g *openGate, now *time.Time)
		enter  func(g *openGate) func()
		locked bool
	}{
		{"unknown image", func(*openGate, *time.Time) {}, func(g *openGate) func() { return g.enter("p/a") }, true},
		{"layering only", func(g *openGate, _ *time.Time) { g.learn("p/a", layering) }, func(g *openGate) func() { return g.enter("p/a") }, false},
		{"exclusive-lock", func(g *openGate, _ *time.Time) { g.learn("p/a", layering|rbd.FeatureExclusiveLock) }, func(g *openGate) func() { return g.enter("p/a") }, true},
		{"object-map after layering", func(g *openGate, _ *time.Time) { g.learn("p/a", layering); g.learn("p/a", full) }, func(g *openGate) func() { return g.enter("p/a") }, true},
		{"expired", func(g *openGate, now *time.Time) { g.learn("p/a", layering); *now = now.Add(safeTTL + time.Second) }, func(g *openGate) func() { return g.enter("p/a") }, true},
		{"forgotten (removed or renamed)", func(g *openGate, _ *time.Time) { g.learn("p/a", layering); g.forget("p/a") }, func(g *openGate) func() { return g.enter("p/a") }, true},
		{"renamed from a safe name", func(g *openGate, _ *time.Time) { g.learn("p/a", layering); g.renamed("p/a", "p/b") }, func(g *openGate) func() { return g.enter("p/b") }, false},
		{"old name after a rename", func(g *openGate, _ *time.Time) { g.learn("p/a", layering); g.renamed("p/a", "p/b") }, func(g *openGate) func() { return g.enter("p/a") }, true},
		{"renamed from an unknown name", func(g *openGate, _ *time.Time) { g.learn("p/b", layering); g.renamed("p/a", "p/b") }, func(g *openGate) func() { return g.enter("p/b") }, true},
		{"one of two unknown", func(g *openGate, _ *time.Time) { g.learn("p/a", layering) }, func(g *openGate) func() { return g.enter("p/a", "p/b") }, true},
		{"clone, safe parent and child", func(g *openGate, _ *time.Time) { g.learn("p/a", layering) }, func(g *openGate) func() { return g.enterClone("p/a", layering) }, false},
		{"clone, risky child", func(g *openGate, _ *time.Time) { g.learn("p/a", layering) }, func(g *openGate) func() { return g.enterClone("p/a", full) }, true},
		{"all serialized", func(g *openGate, _ *time.Time) { g.learn("p/a", layering); g.all.Store(true) }, func(g *openGate) func() { return g.enter("p/a") }, true},
	} {
		now := time.Unix(1e9, 0)
		g := &openGate{now: func() time.Time { return now }}
		tc.prep(g, &now)
		release := tc.enter(g)
		locked := !openMu.TryLock()
		release()
		if !locked {
			openMu.Unlock()
		}
		if locked != tc.locked || (g.serialized.Load() == 1) != tc.locked {
			t.Errorf("%s: locked %v (counted %d), want %v", tc.name, locked, g.serialized.Load(), tc.locked)
		}
	}
}

// The gate's memory is bounded: when full of fresh entries a new image is
// not remembered (it stays serialized); expired entries make room.
func TestOpenGateBounded(t *testing.T) {
	now := time.Unix(1e9, 0)
	g := &openGate{now: func() time.Time { return now }}
	for i := range maxSafe {
		g.learn(imageKey("p", string(rune('a'+i%26))+time.Duration(i).String()), rbd.FeatureLayering)
	}
	g.learn("p/new", rbd.FeatureLayering)
	if g.knownSafe([]string{"p/new"}) || len(g.safe) != maxSafe {
		t.Fatalf("full gate took a new entry (%d entries)", len(g.safe))
	}
	now = now.Add(safeTTL + time.Second)
	g.learn("p/new", rbd.FeatureLayering)
	if !g.knownSafe([]string{"p/new"}) || len(g.safe) != 1 {
		t.Fatalf("expired entries did not make room (%d entries)", len(g.safe))
	}
}
