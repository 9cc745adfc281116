// Package closegate lets background calls that cannot be cancelled (a
// librados call takes no context) finish before what they use is closed.
package closegate

import "sync"

// Gate counts the calls inside it; the zero value is open.
type Gate struct {
	mu     sync.Mutex // guards closed and inside.Add
	closed bool
	inside sync.WaitGroup
}

// Enter reports whether a call may start; if so it must Leave.
func (g *Gate) Enter() bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.closed {
		return false
	}
	g.inside.Add(1)
	return true
}

// Leave ends a call Enter let in.
func (g *Gate) Leave() { g.inside.Done() }

// Close refuses new calls and waits for those inside.
func (g *Gate) Close() {
	g.mu.Lock()
	g.closed = true
	g.mu.Unlock()
	g.inside.Wait()
}
