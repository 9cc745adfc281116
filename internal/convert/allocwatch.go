package convert

import (
	"context"
	"fmt"
	"os"
	"syscall"
	"time"

	"github.com/cowdisk/cowdisk/internal/errs"
)

// allocPoll is how often qemu-img's output is measured while it runs.
const allocPoll = 100 * time.Millisecond

// watchAllocation cancels the returned context once path has more than max
// bytes allocated (0: never), so a small compressed image that expands to a
// huge one (a decompression bomb) stops filling the local disk while
// qemu-img still writes, not after. cause reports why it was canceled.
func watchAllocation(ctx context.Context, path string, max uint64) (context.Context, func(), func() error) {
	ctx, cancel := context.WithCancelCause(ctx)
	if max == 0 {
		return ctx, func() { cancel(nil) }, func() error { return nil }
	}
	done := make(chan struct{})
	go func() {
		t := time.NewTicker(allocPoll)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-ctx.Done():
				return
			case <-t.C:
				if n := allocated(path); n > max {
					cancel(fmt.Errorf("%w: the conversion allocated %d bytes, over the limit of %d for this image (--max-expansion)",
						errs.ErrRefused, n, max))
					return
				}
			}
		}
	}()
	stop := func() { close(done); cancel(nil) }
	cause := func() error {
		if err := context.Cause(ctx); err != nil && ctx.Err() != nil && err != ctx.Err() {
			return err
		}
		return nil
	}
	return ctx, stop, cause
}

// allocated is the bytes a file occupies on disk (holes not counted).
func allocated(path string) uint64 {
	fi, err := os.Stat(path)
	if err != nil {
		return 0
	}
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		return uint64(st.Blocks) * 512
	}
	return uint64(fi.Size())
}
