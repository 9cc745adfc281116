// Package backoff is cowdisk's one way to wait between attempts: waits
// that grow exponentially up to a cap, optional jitter, and three bounds
// (the caller's context, a number of attempts and a total time), so no
// retry or poll loop in the tree spells its own timer, select and counter.
package backoff

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"time"
)

// Policy says how long to wait between attempts and when to give up. The
// zero value retries every 100 ms until ctx ends.
type Policy struct {
	// Initial is the first wait (default 100 ms).
	Initial time.Duration
	// Max caps one wait (default: no cap other than Factor's growth).
	Max time.Duration
	// Factor multiplies the wait after each failure; below 1 means 1, a
	// constant poll.
	Factor float64
	// Jitter takes up to this fraction (0..1) off each wait at random, so
	// replicas retrying one dependency do not retry in step.
	Jitter float64
	// Attempts bounds the calls of op (0: unbounded).
	Attempts int
	// MaxElapsed bounds the total time from the first call (0: unbounded);
	// no wait is started that would end past it.
	MaxElapsed time.Duration
	// OnRetry, when set, is told of each failure that will be retried and
	// of the wait before the next attempt (for logs and status lines).
	OnRetry func(attempt int, wait time.Duration, err error)
}

// ErrGaveUp marks an error returned because Attempts or MaxElapsed ran
// out; the last error of op is wrapped with it.
var ErrGaveUp = errors.New("gave up retrying")

type permanent struct{ err error }

func (p permanent) Error() string { return p.err.Error() }
func (p permanent) Unwrap() error { return p.err }

// Permanent marks err as one no retry can fix: Retry returns it (unwrapped)
// at once.
func Permanent(err error) error {
	if err == nil {
		return nil
	}
	return permanent{err}
}

// Retry calls op until it returns nil, a Permanent error, or a bound is
// reached. attempt counts from 1. When ctx ends first, the error wraps
// ctx's error and op's last one; when Attempts or MaxElapsed run out, it
// wraps ErrGaveUp and op's last error.
func (p Policy) Retry(ctx context.Context, op func(ctx context.Context, attempt int) error) error {
	start := time.Now()
	for attempt := 1; ; attempt++ {
		if err := ctx.Err(); err != nil {
			return err
		}
		err := op(ctx, attempt)
		if err == nil {
			return nil
		}
		if pe, ok := err.(permanent); ok {
			return pe.err
		}
		wait := p.Wait(attempt)
		if p.Attempts > 0 && attempt >= p.Attempts ||
			p.MaxElapsed > 0 && time.Since(start)+wait > p.MaxElapsed {
			return fmt.Errorf("%w after %d attempts in %s: %w", ErrGaveUp, attempt, time.Since(start).Round(time.Millisecond), err)
		}
		if cerr := ctx.Err(); cerr != nil { // no "retrying" when nothing will
			return fmt.Errorf("%w (last error: %w)", cerr, err)
		}
		if p.OnRetry != nil {
			p.OnRetry(attempt, wait, err)
		}
		if serr := Sleep(ctx, wait); serr != nil {
			return fmt.Errorf("%w (last error: %w)", serr, err)
		}
	}
}

// Wait is the wait after failed attempt n (from 1), jitter included.
func (p Policy) Wait(n int) time.Duration {
	d := p.Initial
	if d <= 0 {
		d = 100 * time.Millisecond
	}
	for i := 1; i < n && p.Factor > 1; i++ {
		d = time.Duration(float64(d) * p.Factor)
		if p.Max > 0 && d >= p.Max {
			break
		}
	}
	if p.Max > 0 && d > p.Max {
		d = p.Max
	}
	if j := min(p.Jitter, 1); j > 0 {
		d -= time.Duration(rand.Float64() * j * float64(d))
	}
	return d
}

// Sleep waits d, or less if ctx ends first; then it returns ctx's error.
func Sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
