package agent

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/cowdisk/cowdisk/internal/provisioner"
)

// metrics live in a registry of their own, so several servers (tests) never
// collide in the global one.
type metrics struct {
	reg      *prometheus.Registry
	created  *prometheus.CounterVec
	failures *prometheus.CounterVec
	duration *prometheus.HistogramVec
}

// StatsSource is a backend that counts the image bytes it moves.
type StatsSource interface{ Stats() *provisioner.Stats }

func newMetrics() *metrics {
	m := &metrics{
		reg: prometheus.NewRegistry(),
		created: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "cowdisk_disks_created_total", Help: "Disks created, by method (clone, base-clone, import).",
		}, []string{"method"}),
		failures: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "cowdisk_disk_failures_total", Help: "Failed disk operations, by cause.",
		}, []string{"op", "cause"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "cowdisk_disk_create_duration_seconds", Help: "Time to create a disk, by method.",
			Buckets: prometheus.ExponentialBuckets(0.005, 2, 16), // 5 ms .. ~160 s
		}, []string{"method"}),
	}
	m.reg.MustRegister(m.created, m.failures, m.duration,
		prometheus.NewGoCollector(), prometheus.NewProcessCollector(prometheus.ProcessCollectorOpts{}))
	return m
}

// addStats registers the backend's byte counters, if it has them; it runs
// when the backend arrives, which may be after the server started.
func (m *metrics) addStats(b provisioner.Backend) {
	if s, ok := b.(StatsSource); ok {
		st := s.Stats()
		counter := func(name, help string, v func() int64) prometheus.Collector {
			return prometheus.NewCounterFunc(prometheus.CounterOpts{Name: name, Help: help}, func() float64 { return float64(v()) })
		}
		m.reg.MustRegister(
			counter("cowdisk_image_downloads_total", "Image downloads started by the fallback.", st.Downloads.Load),
			counter("cowdisk_image_bytes_downloaded_total", "Image bytes read from the image service.", st.BytesDownloaded.Load),
			counter("cowdisk_image_conversions_total", "Images converted to raw.", st.Conversions.Load),
			counter("cowdisk_image_bytes_written_total", "Bytes written into the disk store by the fallback.", st.BytesWritten.Load),
		)
	}
}
