package agent

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/cowdisk/cowdisk/internal/provisioner"
)

// MetricStep is the histogram of Create's steps (provisioner.Steps): where
// a new disk's time went, by step and method. The benchmark reads its sums
// and counts.
const MetricStep = "cowdisk_disk_create_step_seconds"

// stepMetrics is kept apart from metrics.go so it can be registered on the
// server's registry without touching the rest.
type stepMetrics struct{ h *prometheus.HistogramVec }

func newStepMetrics(reg prometheus.Registerer) *stepMetrics {
	m := &stepMetrics{h: prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name: MetricStep, Help: "Time of each step of a disk create (lookup, decision, clone, resize, publish), by method.",
		Buckets: prometheus.ExponentialBuckets(0.0005, 2, 20), // 0.5 ms .. ~260 s
	}, []string{"step", "method"})}
	reg.MustRegister(m.h)
	return m
}

// observe records the steps of a new disk; a step the create did not run
// (no resize needed) is recorded as zero, so every step has one sample per
// disk and the means add up to the create.
func (m *stepMetrics) observe(d provisioner.Disk) {
	if d.Steps == nil {
		return
	}
	for _, s := range provisioner.Steps {
		m.h.WithLabelValues(string(s), string(d.Method)).Observe(d.Steps[s].Seconds())
	}
}
