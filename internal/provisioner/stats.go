package provisioner

import "sync/atomic"

// Stats counts image bytes moved. The agent exports them as Prometheus
// counters; tests read them to prove a clone moved no image byte.
type Stats struct {
	Downloads       atomic.Int64 // image downloads started
	BytesToDownload atomic.Int64 // declared sizes of the downloads started, for progress totals
	BytesDownloaded atomic.Int64 // image bytes read from the image service
	Conversions     atomic.Int64 // non-raw images converted
	BytesWritten    atomic.Int64 // bytes written into the disk store by the fallback
	BytesToConvert  atomic.Int64 // virtual sizes of the conversions started, for progress totals
	BytesConverted  atomic.Int64 // how far those conversions have got (progressWriterAt)
}
