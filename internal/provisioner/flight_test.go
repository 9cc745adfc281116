package provisioner

import (
	"context"
	"errors"
	"runtime"
	"testing"

	"go.uber.org/goleak"
)

// A caller that goes away does not cancel a run another caller still waits
// for; when the last one goes, the run is canceled.
func TestFlightCancelsOnlyWhenNobodyWaits(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent()) // the shared run ends with its last waiter
	var f flight[int]
	started, release := make(chan struct{}), make(chan struct{})
	runCtx := make(chan context.Context, 1)
	fn := func(ctx context.Context) (int, error) {
		runCtx <- ctx
		close(started)
		select {
		case <-release:
			return 42, nil
		case <-ctx.Done():
			return 0, ctx.Err()
		}
	}
	ctxA, cancelA := context.WithCancel(context.Background())
	ctxB, cancelB := context.WithCancel(context.Background())
	resA, resB := make(chan error, 1), make(chan int, 1)
	go func() { _, err := f.Do(ctxA, "k", fn); resA <- err }()
	<-started
	go func() { v, _ := f.Do(ctxB, "k", fn); resB <- v }()
	waitWaiters(&f, "k", 2)
	cancelA()
	if err := <-resA; !errors.Is(err, context.Canceled) {
		t.Fatalf("A: %v, want canceled", err)
	}
	run := <-runCtx
	if run.Err() != nil {
		t.Fatal("the run was canceled while B still waits")
	}
	close(release)
	if v := <-resB; v != 42 {
		t.Fatalf("B got %d, want the run's 42", v)
	}
	cancelB()

	// Now one caller alone: its leaving cancels the run.
	started = make(chan struct{})
	ctxC, cancelC := context.WithCancel(context.Background())
	resC := make(chan error, 1)
	go func() {
		_, err := f.Do(ctxC, "k2", func(ctx context.Context) (int, error) {
			runCtx <- ctx
			close(started)
			<-ctx.Done()
			return 0, ctx.Err()
		})
		resC <- err
	}()
	<-started
	cancelC()
	<-resC
	<-(<-runCtx).Done() // blocks forever (test timeout) if the run is never canceled
}

// waitWaiters blocks until key has n waiters (no sleeping on a clock).
func waitWaiters[T any](f *flight[T], key string, n int) {
	for {
		f.mu.Lock()
		c := f.calls[key]
		ok := c != nil && c.waiters >= n
		f.mu.Unlock()
		if ok {
			return
		}
		runtime.Gosched()
	}
}
