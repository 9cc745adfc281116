package agent

import (
	"context"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/cowdisk/cowdisk/internal/buildinfo"
	"github.com/cowdisk/cowdisk/internal/closegate"
	"github.com/cowdisk/cowdisk/internal/health"
	"github.com/cowdisk/cowdisk/internal/provisioner"
)

// metrics live in a registry of their own, so several servers (tests) never
// collide in the global one. Names end in their unit (_seconds, _bytes,
// _total), as Prometheus' conventions ask.
type metrics struct {
	reg          *prometheus.Registry
	created      *prometheus.CounterVec
	failures     *prometheus.CounterVec
	duration     *prometheus.HistogramVec
	requests     *prometheus.CounterVec
	httpDuration *prometheus.HistogramVec
	health       *health.Monitor // made by startHealth, after the options
	stopHealth   context.CancelFunc
	healthDone   chan struct{}   // closed when the checks have stopped
	cache        *cacheCollector // nil until a backend is ready
	// healthInterval and healthTimeout pace the checks (WithHealthTiming).
	healthInterval, healthTimeout time.Duration
}

// StatsSource is a backend that counts the image bytes it moves.
type StatsSource interface{ Stats() *provisioner.Stats }

// fetchCounter is a backend that knows its fallback fetches in flight and
// their bound.
type fetchCounter interface {
	FetchesInFlight() int
	FetchSlots() int
}

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
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "cowdisk_node_http_requests_total", Help: "HTTP requests by route and status code.",
		}, []string{"route", "code"}),
		httpDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "cowdisk_node_http_request_duration_seconds", Help: "HTTP request duration by route.",
			Buckets: prometheus.ExponentialBuckets(0.001, 4, 10), // 1 ms .. ~4.4 min
		}, []string{"route"}),
	}
	m.reg.MustRegister(m.created, m.failures, m.duration, m.requests, m.httpDuration, buildinfo.Collector(),
		prometheus.NewGoCollector(), prometheus.NewProcessCollector(prometheus.ProcessCollectorOpts{}))
	return m
}

// addStats registers the backend's byte counters and gauges, if it has
// them; it runs when the backend arrives, which may be after the server
// started.
func (m *metrics) addStats(b provisioner.Backend) {
	if s, ok := b.(StatsSource); ok {
		st := s.Stats()
		counter := func(name, help string, v func() int64) prometheus.Collector {
			return prometheus.NewCounterFunc(prometheus.CounterOpts{Name: name, Help: help}, func() float64 { return float64(v()) })
		}
		m.reg.MustRegister(
			counter("cowdisk_image_downloads_total", "Image downloads started by the fallback.", st.Downloads.Load),
			counter("cowdisk_image_downloaded_bytes_total", "Image bytes read from the image service.", st.BytesDownloaded.Load),
			counter("cowdisk_image_conversions_total", "Images converted to raw.", st.Conversions.Load),
			counter("cowdisk_image_written_bytes_total", "Bytes written into the disk store by the fallback.", st.BytesWritten.Load),
		)
	}
	if f, ok := b.(fetchCounter); ok {
		m.reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "cowdisk_node_fetches_in_flight",
			Help: "Fallback image fetches (download, conversion, import) running now."},
			func() float64 { return float64(f.FetchesInFlight()) }))
		m.reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "cowdisk_node_fetch_slots",
			Help: "Fallback fetches allowed at once (--max-fetches); at the bound new ones queue."},
			func() float64 { return float64(f.FetchSlots()) }))
	}
	m.cache = newCacheCollector(b)
	m.reg.MustRegister(m.cache)
}

// cacheCollector reports the base cache at scrape time. Listing bases asks
// the store (Ceph), so one listing runs at a time and a scrape waits for it
// at most cacheScrapeTimeout; without an answer the gauges are left out of
// that scrape rather than stale.
type cacheCollector struct {
	b            provisioner.Backend
	busy         atomic.Bool
	bases, bytes *prometheus.Desc
	// running is the listing in flight: the store's connection must not
	// be closed under it (Server.Close closes the gate first).
	running closegate.Gate
}

const cacheScrapeTimeout = 2 * time.Second

func newCacheCollector(b provisioner.Backend) *cacheCollector {
	return &cacheCollector{b: b,
		bases: prometheus.NewDesc("cowdisk_node_bases", "Cached bases (images kept for clones) on this node's store.", nil, nil),
		bytes: prometheus.NewDesc("cowdisk_node_cache_bytes", "Provisioned size of the cached bases.", nil, nil)}
}

func (c *cacheCollector) Describe(ch chan<- *prometheus.Desc) { ch <- c.bases; ch <- c.bytes }

func (c *cacheCollector) Collect(ch chan<- prometheus.Metric) {
	if !c.busy.CompareAndSwap(false, true) {
		return
	}
	if !c.running.Enter() {
		c.busy.Store(false)
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), cacheScrapeTimeout)
	defer cancel()
	type result struct {
		bases []provisioner.Base
		err   error
	}
	done := make(chan result, 1)
	go func() {
		defer c.running.Leave()
		defer c.busy.Store(false)
		bases, err := c.b.Bases(ctx)
		done <- result{bases, err}
	}()
	select {
	case r := <-done:
		if r.err != nil {
			return
		}
		var size uint64
		for _, b := range r.bases {
			size += b.SizeBytes
		}
		ch <- prometheus.MustNewConstMetric(c.bases, prometheus.GaugeValue, float64(len(r.bases)))
		ch <- prometheus.MustNewConstMetric(c.bytes, prometheus.GaugeValue, float64(size))
	case <-ctx.Done():
	}
}
