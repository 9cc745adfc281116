package api

import (
	"context"
	"sync"
)

// importRuns tracks the background imports, so Close can cut them and
// wait until each has cleaned up (stored data removed, image back to
// queued) while the catalog and the store are still open.
type importRuns struct {
	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup
	// slots bounds the imports running at once (a tenant could otherwise
	// start any number of downloads).
	slots chan struct{}
}

// DefaultMaxImports is ImportConfig.MaxRunning's zero value.
const DefaultMaxImports = 8

func newImportRuns(max int) *importRuns {
	if max <= 0 {
		max = DefaultMaxImports
	}
	ctx, cancel := context.WithCancel(context.Background())
	return &importRuns{ctx: ctx, cancel: cancel, slots: make(chan struct{}, max)}
}

// reserve takes a slot for an import, or says there is none free; release
// gives it back (once the import has ended, or if it is not started).
func (r *importRuns) reserve() (release func(), ok bool) {
	select {
	case r.slots <- struct{}{}:
		return func() { <-r.slots }, true
	default:
		return nil, false
	}
}

// start runs fn in the background with a context that Close cancels.
func (r *importRuns) start(fn func(ctx context.Context)) {
	r.wg.Add(1)
	go func() {
		defer r.wg.Done()
		fn(r.ctx)
	}()
}

// Close cuts the imports still running and waits for their clean-up. The
// service calls it before it closes the catalog and the store.
func (s *Server) Close() error {
	s.imports.cancel()
	s.imports.wg.Wait()
	return nil
}
