package ceph

import (
	"context"
	"log/slog"
	"time"
)

// Cleanup after a failure is owned here, once. When the failure says the
// cluster is not answering (Stalled), the cleanup would block for the OSD
// timeout too (cgo calls ignore ctx), so it runs in the background and the
// caller answers now; otherwise the caller waits for it, a bounded while
// (the cluster may have died after the cause). A name it cannot remove is
// a temporary the reapers take. Background work is counted on the handle
// and Close waits for it, so no cleanup outlives the handle it runs on (and
// none runs on a connection that was shut down).

// discardRemove retries a little for a watch that is going away, then trashes.
var discardRemove = RemoveOptions{Retries: 3, Interval: time.Second, TrashAsLastResort: true}

// discardTimeout bounds one background cleanup.
const discardTimeout = time.Minute

// Discard removes pool/name, made by a step that failed with cause: now,
// or in the background when cause is a stall. It runs even when ctx has
// ended; failures are logged, as the caller is already answering cause.
func (c *Cluster) Discard(ctx context.Context, pool, name string, cause error) {
	c.DiscardRecorded(ctx, pool, "", name, cause)
}

// DiscardRecorded is Discard of a name recorded in owner's journal (Stage,
// Intent): the record is settled once the image is gone, and kept for
// owner's reaper when it could not be removed. An empty owner records
// nothing.
func (c *Cluster) DiscardRecorded(ctx context.Context, pool, owner, name string, cause error) {
	run := func() {
		ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), discardTimeout)
		defer cancel()
		err := c.Remove(ctx, pool, name, discardRemove)
		if err == nil && owner != "" {
			err = c.Settle(ctx, pool, owner, name)
		}
		if err != nil {
			slog.ErrorContext(ctx, "ceph: cleanup failed; the reaper will take it", "image", imageSpec(pool, name), "owner", owner, "err", err)
		}
	}
	c.afterFailure(ctx, cause, imageSpec(pool, name), run)
}

// DiscardWait is how long a caller waits for a cleanup whose cause does not
// say the cluster stalled: a healthy cluster removes an image well within
// it, so the answer comes with the pool clean; a cluster that stopped
// answering after the cause does not hold the answer for its OSD timeout.
const DiscardWait = 5 * time.Second

// afterFailure runs cleanup, of what on c, after a step failed with cause:
// counted in the background, waited for up to DiscardWait, or not at all
// when cause is a stall.
func (c *Cluster) afterFailure(ctx context.Context, cause error, what string, cleanup func()) {
	done := make(chan struct{})
	c.background(func() {
		defer close(done)
		cleanup()
	})
	if Stalled(cause) {
		return
	}
	t := time.NewTimer(DiscardWait)
	defer t.Stop()
	select {
	case <-done:
	case <-t.C:
		slog.WarnContext(ctx, "ceph: cleanup is slow; it goes on in the background", "image", what, "waited", DiscardWait)
	}
}

// background runs fn counted on c, for Close to wait for.
func (c *Cluster) background(fn func()) {
	c.bg.Add(1)
	go func() {
		defer c.bg.Done()
		fn()
	}()
}
