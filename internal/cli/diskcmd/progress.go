package diskcmd

import (
	"context"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/mattn/go-isatty"

	"github.com/cowdisk/cowdisk/internal/agent"
	"github.com/cowdisk/cowdisk/internal/units"
)

// showProgress draws a one-line progress display on a terminal while a create
// runs: a clone finishes before the first tick, a fallback import shows its
// download against the image's declared size, then that it is converting
// and writing. It returns the function that stops it and clears the line.
func showProgress(ctx context.Context, client *agent.Client, w io.Writer) func() {
	f, ok := w.(*os.File)
	if !ok || !isatty.IsTerminal(f.Fd()) {
		return func() {}
	}
	first, err := client.Stats(ctx)
	if err != nil {
		return func() {}
	}
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		start := time.Now()
		t := time.NewTicker(250 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				fmt.Fprint(w, "\r\033[K")
				return
			case <-t.C:
			}
			if now, err := client.Stats(ctx); err == nil {
				fmt.Fprintf(w, "\r\033[K%s", progressLine(first, now, time.Since(start)))
			}
		}
	}()
	return func() { cancel(); <-done }
}

// progressLine says what a create is doing, from the agent's counters now
// against those before it began: downloading and converting against their
// totals (the image's declared size, the disk's virtual size), then the
// last step. The counters are the node's, so a concurrent import on the
// same agent adds to them.
func progressLine(first, now agent.Stats, elapsed time.Duration) string {
	secs := elapsed.Round(time.Second)
	got, total := now.BytesDownloaded-first.BytesDownloaded, now.BytesToDownload-first.BytesToDownload
	conv, convTotal := now.BytesConverted-first.BytesConverted, now.BytesToConvert-first.BytesToConvert
	switch {
	case now.Downloads == first.Downloads:
		return fmt.Sprintf("creating disk (%s)", secs)
	case total > 0 && got < total:
		return phase("downloading", got, total, secs)
	case total <= 0 && convTotal == 0:
		return fmt.Sprintf("fallback import: downloading %s of unknown size (%s)", units.Format(uint64(got)), secs)
	case convTotal > 0 && conv < convTotal:
		return phase("converting", conv, convTotal, secs)
	}
	return fmt.Sprintf("fallback import: downloaded %s, finishing the disk (%s)", units.Format(uint64(got)), secs)
}

// phase is "fallback import: downloading 10 MiB / 40 MiB (25%, 2s)".
func phase(verb string, n, total int64, secs time.Duration) string {
	return fmt.Sprintf("fallback import: %s %s / %s (%d%%, %s)", verb, units.Format(uint64(n)), units.Format(uint64(total)), n*100/total, secs)
}
