package provisioner

import (
	"context"
	"errors"
	"sync"
	"testing"

	"go.uber.org/goleak"
)

// Creates of one disk run one at a time; other disks are not held up, and a
// waiter whose ctx ends gives up without taking the lock.
func TestDiskLocks(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	var l diskLocks
	ctx := context.Background()
	unlockA, err := l.lock(ctx, "a")
	if err != nil {
		t.Fatal(err)
	}
	unlockB, err := l.lock(ctx, "b") // another disk: not blocked
	if err != nil {
		t.Fatal(err)
	}
	unlockB()

	canceled, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := l.lock(canceled, "a"); !errors.Is(err, context.Canceled) {
		t.Fatalf("lock of a held key with an ended ctx: %v, want context.Canceled", err)
	}

	var mu sync.Mutex
	inside, maxInside := 0, 0
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			unlock, err := l.lock(ctx, "a")
			if err != nil {
				t.Error(err)
				return
			}
			mu.Lock()
			inside++
			maxInside = max(maxInside, inside)
			mu.Unlock()
			mu.Lock()
			inside--
			mu.Unlock()
			unlock()
		}()
	}
	unlockA()
	wg.Wait()
	if maxInside != 1 {
		t.Errorf("%d holders of one key at once, want 1", maxInside)
	}
	if len(l.held) != 0 {
		t.Errorf("locks left held: %v", l.held)
	}
}
