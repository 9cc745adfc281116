package provisioner

import (
	"context"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/cowdisk/cowdisk/internal/errs"
)

// watchdog cancels a transfer that has made no progress for a while: a
// stalled image service would otherwise hold a fetch slot (and every
// request waiting on it) until its own timeout, if it has one.
type watchdog struct {
	t      *time.Timer
	d      time.Duration
	halted atomic.Bool
}

// reset rearms the watchdog, unless it was halted: checked after the
// rearm, so a halt racing with it still ends with the timer stopped.
func (w *watchdog) reset() {
	w.t.Reset(w.d)
	if w.halted.Load() {
		w.t.Stop()
	}
}

// halt stops the watchdog for good once the transfer has failed: while it
// waits for its other reads and writes to end (a write Ceph times out takes
// the OSD timeout), it is not stalled, and a stall fired then would name
// the wrong cause in the answer (boundErr prefers a bound's).
func (w *watchdog) halt() {
	w.halted.Store(true)
	w.t.Stop()
}

// transferContext is ctx bounded by the fetch deadline and the stall
// timeout; its cause names the bound (errs.ErrRefused: the image, as this
// service serves it, cannot be fetched within the node's limits). stop
// releases both.
func transferContext(ctx context.Context, id string, b Bounds) (context.Context, *watchdog, func()) {
	ctx, cancelDeadline := context.WithTimeoutCause(ctx, b.FetchDeadline,
		fmt.Errorf("download of image %s not finished within %s (--download-deadline): %w", id, b.FetchDeadline, errs.ErrRefused))
	ctx, cancel := context.WithCancelCause(ctx)
	w := &watchdog{d: b.StallTimeout, t: time.AfterFunc(b.StallTimeout, func() {
		cancel(fmt.Errorf("download of image %s stalled: no data for %s (--download-stall-timeout): %w", id, b.StallTimeout, errs.ErrRefused))
	})}
	return ctx, w, func() {
		w.t.Stop()
		cancel(nil)
		cancelDeadline()
	}
}

// lookupBounded reads the image record within the stall timeout: a service
// that never answers (or trickles) its record holds no request forever.
func lookupBounded(ctx context.Context, src ImageSource, id string, b Bounds) (Image, error) {
	ctx, cancel := context.WithTimeoutCause(ctx, b.StallTimeout,
		fmt.Errorf("image %s: record not received within %s (--download-stall-timeout): %w", id, b.StallTimeout, errs.ErrRefused))
	defer cancel()
	img, err := lookupImage(ctx, src, id)
	return img, boundErr(ctx, err)
}

// boundErr replaces a transfer error caused by a bound with the bound's own
// error, so the answer says which limit ended the download.
func boundErr(ctx context.Context, err error) error {
	if err == nil || ctx.Err() == nil {
		return err
	}
	if cause := context.Cause(ctx); cause != nil && cause != ctx.Err() {
		return cause
	}
	return err
}
