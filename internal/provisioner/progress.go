package provisioner

import (
	"io"
	"sync/atomic"
)

// progressWriterAt tells how far a conversion has got into the virtual disk:
// the highest offset written so far. Conversions hand out chunks in order
// (several at once) and skip all-zero ones, so the position moves forward
// steadily and jumps over holes; finish counts the rest when it ends. The
// advance goes into Stats.BytesConverted, for progress displays.
type progressWriterAt struct {
	w     io.WriterAt
	pos   atomic.Int64
	stats *Stats
}

func (p *progressWriterAt) WriteAt(b []byte, off int64) (int, error) {
	n, err := p.w.WriteAt(b, off)
	end := off + int64(n)
	for {
		cur := p.pos.Load()
		if end <= cur {
			break
		}
		if p.pos.CompareAndSwap(cur, end) {
			p.stats.BytesConverted.Add(end - cur)
			break
		}
	}
	return n, err
}

// finish counts the disk as converted up to size, failed or not, so the
// counters stay paired with BytesToConvert.
func (p *progressWriterAt) finish(size int64) {
	if rest := size - p.pos.Swap(size); rest > 0 {
		p.stats.BytesConverted.Add(rest)
	}
}
