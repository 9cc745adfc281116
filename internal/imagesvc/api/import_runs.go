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
}

func newImportRuns() *importRuns {
	ctx, cancel := context.WithCancel(context.Background())
	return &importRuns{ctx: ctx, cancel: cancel}
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
