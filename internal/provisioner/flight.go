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
	done chan struct{}
	v    T
	err  error
}

// Do runs fn for key unless a run is in progress, then waits for that run.
// The shared run does not inherit one caller's cancellation (the others still
// want it); a caller whose ctx ends stops waiting.
func (f *flight[T]) Do(ctx context.Context, key string, fn func(context.Context) (T, error)) (T, error) {
	f.mu.Lock()
	if f.calls == nil {
		f.calls = map[string]*flightCall[T]{}
	}
	c, running := f.calls[key]
	if !running {
		c = &flightCall[T]{done: make(chan struct{})}
		f.calls[key] = c
		go func() {
			c.v, c.err = fn(context.WithoutCancel(ctx))
			f.mu.Lock()
			delete(f.calls, key)
			f.mu.Unlock()
			close(c.done)
		}()
	}
	f.mu.Unlock()
	select {
	case <-c.done:
		return c.v, c.err
	case <-ctx.Done():
		var zero T
		return zero, ctx.Err()
	}
}
