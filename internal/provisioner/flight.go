package provisioner

import (
	"context"
	"sync"
)

// flight runs one call per key at a time and hands its result to every
// caller that arrived meanwhile: sixteen first boots of one image on a node
// make one download. (x/sync/singleflight, plus generics and ctx.)
type flight[T any] struct {
	mu    sync.Mutex
	calls map[string]*flightCall[T]
}

type flightCall[T any] struct {
	done    chan struct{}
	v       T
	err     error
	waiters int                // callers still waiting (under flight.mu)
	cancel  context.CancelFunc // ends the run
}

// Do runs fn for key unless a run is in progress, then waits for that run.
// The shared run does not inherit one caller's cancellation (the others
// still want it): a caller whose ctx ends stops waiting, and when the last
// waiter has gone the run is canceled, so a fetch nobody wants any more
// (every client disconnected) stops and frees its slot.
func (f *flight[T]) Do(ctx context.Context, key string, fn func(context.Context) (T, error)) (T, error) {
	f.mu.Lock()
	if f.calls == nil {
		f.calls = map[string]*flightCall[T]{}
	}
	c, running := f.calls[key]
	if !running {
		run, cancel := context.WithCancel(context.WithoutCancel(ctx))
		c = &flightCall[T]{done: make(chan struct{}), cancel: cancel}
		f.calls[key] = c
		go func() {
			defer cancel()
			c.v, c.err = fn(run)
			f.mu.Lock()
			if f.calls[key] == c {
				delete(f.calls, key)
			}
			f.mu.Unlock()
			close(c.done)
		}()
	}
	c.waiters++
	f.mu.Unlock()
	select {
	case <-c.done:
		return c.v, c.err
	case <-ctx.Done():
		f.leave(key, c)
		var zero T
		return zero, ctx.Err()
	}
}

// leave drops one waiter; the last one cancels the run and forgets it, so
// a caller arriving later starts afresh instead of joining a canceled run.
func (f *flight[T]) leave(key string, c *flightCall[T]) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if c.waiters--; c.waiters > 0 {
		return
	}
	c.cancel()
	if f.calls[key] == c {
		delete(f.calls, key)
	}
}
