package provisioner

import (
	"context"
	"sync"
)

// diskLocks serializes the creates of one disk name in this process. A disk
// name belongs to one instance, and an instance to one node, whose agent is
// the only writer of its disks; so once the creates of one name are
// serialized here, nothing else publishes that name and a plain rename
// publishes it safely (no exclusive claim image; see docs/layout.md,
// "Staging protocol").
type diskLocks struct {
	mu   sync.Mutex
	held map[string]chan struct{} // closed when the holder unlocks
}

// lock waits for key, or for ctx to end. The returned func unlocks.
func (l *diskLocks) lock(ctx context.Context, key string) (func(), error) {
	for {
		l.mu.Lock()
		if l.held == nil {
			l.held = map[string]chan struct{}{}
		}
		ch, busy := l.held[key]
		if !busy {
			mine := make(chan struct{})
			l.held[key] = mine
			l.mu.Unlock()
			return func() { l.unlock(key, mine) }, nil
		}
		l.mu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}

func (l *diskLocks) unlock(key string, mine chan struct{}) {
	l.mu.Lock()
	defer l.mu.Unlock()
	delete(l.held, key)
	close(mine)
}
