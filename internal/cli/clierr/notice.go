package clierr

import (
	"context"
	"fmt"
	"io"
	"net/http/httptrace"
	"sync/atomic"
	"time"
)

// notice returns ctx traced so that, when a request has been sent and no
// answer has begun after noticeAfter, one line on w says what the command
// waits for. A long upload or download that is flowing stays quiet: its
// answer began. The returned func stops the watcher and waits for it, so
// nothing writes to w once the command has returned.
func notice(ctx context.Context, w io.Writer, svc Service, timeout time.Duration) (context.Context, func()) {
	var sentAt atomic.Int64 // unix nanos of the unanswered request; 0: none
	ctx = httptrace.WithClientTrace(ctx, &httptrace.ClientTrace{
		WroteRequest:         func(httptrace.WroteRequestInfo) { sentAt.CompareAndSwap(0, time.Now().UnixNano()) },
		GotFirstResponseByte: func() { sentAt.Store(0) },
	})
	limit := fmt.Sprintf("giving up after %s (--timeout)", timeout)
	if timeout == 0 {
		limit = "no time limit (--timeout sets one)"
	}
	done, exited := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(exited)
		t := time.NewTicker(max(noticeAfter/4, time.Millisecond))
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
			}
			if s := sentAt.Load(); s != 0 && time.Since(time.Unix(0, s)) >= noticeAfter {
				fmt.Fprintf(w, "cowdisk: still waiting for %s to answer (Ceph may be slow or down); %s\n",
					svc.name(), limit)
				return
			}
		}
	}()
	return ctx, func() { close(done); <-exited }
}
