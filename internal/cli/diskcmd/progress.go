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
// against those before it began. The counters are the node's, so a
// concurrent import on the same agent adds to them; the written bytes are
// counted when an import ends, so the last phase shows time, not bytes.
func progressLine(first, now agent.Stats, elapsed time.Duration) string {
	got := now.BytesDownloaded - first.BytesDownloaded
	total := now.BytesToDownload - first.BytesToDownload
	secs := elapsed.Round(time.Second)
	switch {
	case now.Downloads == first.Downloads:
		return fmt.Sprintf("creating disk (%s)", secs)
	case total > 0 && got < total:
		return fmt.Sprintf("fallback import: downloading %s / %s (%d%%, %s)",
			units.Format(uint64(got)), units.Format(uint64(total)), got*100/total, secs)
	case total <= 0 && got >= 0:
		return fmt.Sprintf("fallback import: downloading %s of unknown size (%s)", units.Format(uint64(got)), secs)
	}
	return fmt.Sprintf("fallback import: downloaded %s, converting and writing the disk (%s)", units.Format(uint64(got)), secs)
}
