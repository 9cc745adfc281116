package provisioner

import "context"

// slots bounds how many fallback fetches run at once on a node: each one
// holds a download, a hash, a conversion and many cluster writes, and cgo
// calls into librbd do not give way to ctx. Requests beyond the bound wait
// (and give up when their ctx ends).
type slots chan struct{}

// DefaultMaxFetches is the bound when the config leaves it zero.
const DefaultMaxFetches = 2

func newSlots(n int) slots {
	if n <= 0 {
		n = DefaultMaxFetches
	}
	return make(slots, n)
}

func (s slots) acquire(ctx context.Context) error {
	select {
	case s <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (s slots) release() { <-s }
