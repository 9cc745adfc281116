// Package load runs a timed operation many times at a fixed concurrency and
// records each latency and the wall time: the shape of a boot storm and of
// the clone-throughput measurement.
package load

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"
)

// Result is what one Run measured. Latencies are in seconds, one per
// successful call, in completion order.
type Result struct {
	Latencies []float64
	Wall      time.Duration
	Failures  int
}

// Run calls op(ctx, i) for i in [0, n) with at most concurrency calls at
// once, all released together so a storm really is simultaneous. Failed
// calls are counted and their errors joined; they add no latency sample.
func Run(ctx context.Context, n, concurrency int, op func(ctx context.Context, i int) error) (Result, error) {
	if n <= 0 || concurrency <= 0 {
		return Result{}, fmt.Errorf("load: n=%d concurrency=%d: both must be positive", n, concurrency)
	}
	var (
		mu   sync.Mutex
		res  Result
		errs []error
		wg   sync.WaitGroup
	)
	next := make(chan int)
	gate := make(chan struct{})
	for range min(n, concurrency) {
		wg.Go(func() {
			<-gate
			for i := range next {
				t0 := time.Now()
				err := op(ctx, i)
				d := time.Since(t0).Seconds()
				mu.Lock()
				if err != nil {
					res.Failures++
					errs = append(errs, fmt.Errorf("call %d: %w", i, err))
				} else {
					res.Latencies = append(res.Latencies, d)
				}
				mu.Unlock()
			}
		})
	}
	start := time.Now()
	close(gate)
	for i := range n {
		if ctx.Err() != nil {
			break
		}
		next <- i
	}
	close(next)
	wg.Wait()
	res.Wall = time.Since(start)
	return res, errors.Join(append(errs, ctx.Err())...)
}
