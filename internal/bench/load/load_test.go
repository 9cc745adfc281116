package load

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
)

func TestRun(t *testing.T) {
	tests := []struct {
		name              string
		n, conc, failEvry int
		wantOK, wantFail  int
	}{
		{"serial", 5, 1, 0, 5, 0},
		{"storm", 32, 32, 0, 32, 0},
		{"more workers than calls", 3, 8, 0, 3, 0},
		{"some fail", 10, 4, 5, 8, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var inFlight, peak atomic.Int32
			res, err := Run(context.Background(), tt.n, tt.conc, func(_ context.Context, i int) error {
				cur := inFlight.Add(1)
				defer inFlight.Add(-1)
				for {
					p := peak.Load()
					if cur <= p || peak.CompareAndSwap(p, cur) {
						break
					}
				}
				if tt.failEvry > 0 && i%tt.failEvry == 0 {
					return errors.New("boom")
				}
				return nil
			})
			if len(res.Latencies) != tt.wantOK || res.Failures != tt.wantFail {
				t.Fatalf("ok %d failed %d, want %d and %d", len(res.Latencies), res.Failures, tt.wantOK, tt.wantFail)
			}
			if (err != nil) != (tt.wantFail > 0) {
				t.Errorf("err = %v", err)
			}
			if int(peak.Load()) > tt.conc {
				t.Errorf("peak concurrency %d > %d", peak.Load(), tt.conc)
			}
		})
	}
}

func TestRunRejectsBadArgs(t *testing.T) {
	if _, err := Run(context.Background(), 0, 1, nil); err == nil {
		t.Fatal("n=0 accepted")
	}
}

func TestRunStopsOnCancel(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	var calls atomic.Int32
	_, err := Run(ctx, 1000, 2, func(context.Context, int) error {
		if calls.Add(1) == 3 {
			cancel()
		}
		return nil
	})
	if !errors.Is(err, context.Canceled) || calls.Load() > 10 {
		t.Fatalf("err %v after %d calls", err, calls.Load())
	}
}
