package provisioner

import (
	"context"
	"runtime/debug"

	"github.com/cowdisk/cowdisk/internal/ceph"
)

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

// release frees the slot; the last fetch out gives the memory the fetches
// used back to the system (Go's heap and glibc's arenas, where librbd's
// copies of the writes lived). Go keeps a freed heap mapped for minutes, so
// without this the agent would sit at its fetch peak between images
// (memory a hypervisor's guests could use), and a fetch's peak would
// stack on the last one's leftovers. A forced collection costs
// milliseconds; a fetch takes seconds.
func (s slots) release() {
	<-s
	if len(s) == 0 {
		debug.FreeOSMemory()
		ceph.TrimMemory()
	}
}
