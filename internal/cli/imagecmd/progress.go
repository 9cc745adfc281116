package imagecmd

import (
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/dustin/go-humanize"
	"github.com/mattn/go-isatty"
)

// progress draws a one-line bar on stderr while bytes flow, redrawn a few
// times a second; it stays silent when stderr is not a terminal (logs,
// pipes) unless --progress always.
type progress struct {
	w     io.Writer
	label string
	total int64 // -1 when unknown
	n     atomic.Int64
	start time.Time
	stop  chan struct{}
	wg    sync.WaitGroup
}

func (o *options) newProgress(w io.Writer, label string, total int64) *progress {
	p := &progress{w: w, label: label, total: total, start: time.Now(), stop: make(chan struct{})}
	show := o.progress == "always"
	if o.progress == "auto" {
		f, ok := w.(*os.File)
		show = ok && isatty.IsTerminal(f.Fd())
	}
	if !show {
		p.w = nil
		return p
	}
	p.wg.Go(func() {
		t := time.NewTicker(200 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-p.stop:
				return
			case <-t.C:
				p.draw()
			}
		}
	})
	return p
}

func (p *progress) draw() {
	n := p.n.Load()
	rate := float64(n) / max(time.Since(p.start).Seconds(), 1e-3)
	line := fmt.Sprintf("%s %s %s/s", p.label, humanize.IBytes(uint64(n)), humanize.IBytes(uint64(rate)))
	if p.total > 0 {
		frac := min(float64(n)/float64(p.total), 1)
		const width = 30
		full := int(frac * width)
		line = fmt.Sprintf("%s [%s%s] %3.0f%% %s / %s %s/s", p.label, strings.Repeat("=", full),
			strings.Repeat(" ", width-full), frac*100, humanize.IBytes(uint64(n)),
			humanize.IBytes(uint64(p.total)), humanize.IBytes(uint64(rate)))
	}
	fmt.Fprintf(p.w, "\r%-90s", line)
}

// done stops the bar and ends its line.
func (p *progress) done() {
	if p.w == nil {
		return
	}
	select {
	case <-p.stop:
		return // already done
	default:
		close(p.stop)
	}
	p.wg.Wait()
	p.draw()
	fmt.Fprintln(p.w)
}

// reader counts what passes through r.
func (p *progress) reader(r io.Reader) io.Reader { return &countReader{r: r, n: &p.n} }

type countReader struct {
	r io.Reader
	n *atomic.Int64
}

func (c *countReader) Read(b []byte) (int, error) {
	n, err := c.r.Read(b)
	c.n.Add(int64(n))
	return n, err
}
