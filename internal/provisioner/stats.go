package provisioner

import "sync/atomic"

// Stats counts image bytes moved. The agent exports them as Prometheus
// counters; tests read them to prove a clone moved no image byte.
type Stats struct {
	Downloads       atomic.Int64 // image downloads started
	BytesDownloaded atomic.Int64 // image bytes read from the image service
	Conversions     atomic.Int64 // non-raw images converted
	BytesWritten    atomic.Int64 // bytes written into the disk store by the fallback
}

// countingWriterAt counts bytes handed to a WriterAt.
type countingWriterAt struct {
	w interface {
		WriteAt(p []byte, off int64) (int, error)
	}
	n *atomic.Int64
}

func (c countingWriterAt) WriteAt(p []byte, off int64) (int, error) {
	n, err := c.w.WriteAt(p, off)
	c.n.Add(int64(n))
	return n, err
}
