package backoff

import (
	"context"
	"errors"
	"testing"
	"time"
)

func TestWait(t *testing.T) {
	tests := []struct {
		name string
		p    Policy
		want []time.Duration // waits after attempts 1, 2, ...
	}{
		{"zero value polls at 100ms", Policy{}, []time.Duration{100 * time.Millisecond, 100 * time.Millisecond}},
		{"constant", Policy{Initial: time.Second}, []time.Duration{time.Second, time.Second, time.Second}},
		{"doubling to a cap", Policy{Initial: time.Second, Factor: 2, Max: 5 * time.Second},
			[]time.Duration{time.Second, 2 * time.Second, 4 * time.Second, 5 * time.Second, 5 * time.Second}},
		{"cap below initial", Policy{Initial: time.Second, Max: 300 * time.Millisecond}, []time.Duration{300 * time.Millisecond}},
		{"doubling under a far cap", Policy{Initial: time.Second, Factor: 2, Max: time.Minute},
			[]time.Duration{time.Second, 2 * time.Second}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			for i, want := range tc.want {
				if got := tc.p.Wait(i + 1); got != want {
					t.Errorf("Wait(%d) = %s, want %s", i+1, got, want)
				}
			}
		})
	}
	if got := (Policy{Initial: time.Second, Factor: 2, Max: time.Minute}).Wait(1000); got != time.Minute {
		t.Errorf("Wait(1000) = %s, want the cap", got)
	}
}

func TestWaitJitterStaysInRange(t *testing.T) {
	p := Policy{Initial: time.Second, Jitter: 0.5}
	seen := map[time.Duration]bool{}
	for range 200 {
		d := p.Wait(1)
		if d < 500*time.Millisecond || d > time.Second {
			t.Fatalf("jittered wait %s outside [500ms, 1s]", d)
		}
		seen[d] = true
	}
	if len(seen) < 2 {
		t.Fatal("jitter never varied the wait")
	}
}

var errFlaky = errors.New("flaky")

func TestRetry(t *testing.T) {
	fast := Policy{Initial: time.Microsecond}
	tests := []struct {
		name      string
		p         Policy
		failFirst int   // op fails this many times, then succeeds
		opErr     error // what it fails with
		wantCalls int
		wantIs    []error
	}{
		{"succeeds at once", fast, 0, errFlaky, 1, nil},
		{"succeeds on the third", fast, 2, errFlaky, 3, nil},
		{"attempts run out", Policy{Initial: time.Microsecond, Attempts: 3}, 10, errFlaky, 3, []error{ErrGaveUp, errFlaky}},
		{"permanent stops at once", fast, 10, Permanent(errFlaky), 1, []error{errFlaky}},
		{"elapsed bound refuses a wait past it", Policy{Initial: time.Hour, MaxElapsed: time.Minute}, 10, errFlaky, 1, []error{ErrGaveUp, errFlaky}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			calls, retries := 0, 0
			tc.p.OnRetry = func(attempt int, _ time.Duration, err error) {
				retries++
				if attempt != calls || !errors.Is(err, errFlaky) {
					t.Errorf("OnRetry(%d, %v) after %d calls", attempt, err, calls)
				}
			}
			err := tc.p.Retry(context.Background(), func(_ context.Context, attempt int) error {
				calls++
				if attempt != calls {
					t.Errorf("attempt %d on call %d", attempt, calls)
				}
				if calls <= tc.failFirst {
					return tc.opErr
				}
				return nil
			})
			if calls != tc.wantCalls || retries != calls-1 {
				t.Errorf("%d calls, %d retries; want %d calls", calls, retries, tc.wantCalls)
			}
			if tc.wantIs == nil && err != nil {
				t.Errorf("err %v, want nil", err)
			}
			for _, want := range tc.wantIs {
				if !errors.Is(err, want) {
					t.Errorf("err %v, want it to wrap %v", err, want)
				}
			}
			if _, ok := err.(permanent); ok {
				t.Errorf("Retry returned the Permanent wrapper itself: %v", err)
			}
		})
	}
}

// A context that ends during a wait ends the retry with both errors.
func TestRetryHonoursContext(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	p := Policy{Initial: time.Hour, OnRetry: func(int, time.Duration, error) { cancel() }}
	err := p.Retry(ctx, func(context.Context, int) error { return errFlaky })
	if !errors.Is(err, context.Canceled) || !errors.Is(err, errFlaky) {
		t.Fatalf("err %v, want canceled and the last error", err)
	}
	// An op that ends ctx itself is not announced as retried.
	ctx2, cancel2 := context.WithCancel(context.Background())
	retried := false
	p2 := Policy{Initial: time.Hour, OnRetry: func(int, time.Duration, error) { retried = true }}
	err = p2.Retry(ctx2, func(context.Context, int) error { cancel2(); return errFlaky })
	if !errors.Is(err, context.Canceled) || !errors.Is(err, errFlaky) || retried {
		t.Fatalf("op ended ctx: err %v, retried %v; want canceled, not retried", err, retried)
	}
	calls := 0
	err = p.Retry(ctx, func(context.Context, int) error { calls++; return nil })
	if !errors.Is(err, context.Canceled) || calls != 0 {
		t.Fatalf("ended ctx: err %v after %d calls, want canceled before any", err, calls)
	}
}

func TestSleep(t *testing.T) {
	if err := Sleep(context.Background(), time.Microsecond); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := Sleep(ctx, time.Hour); !errors.Is(err, context.Canceled) {
		t.Fatalf("err %v, want canceled", err)
	}
}
