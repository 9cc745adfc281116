package buildinfo

import "github.com/prometheus/client_golang/prometheus"

// Collector is cowdisk_build_info{version,commit,goversion} 1, the
// conventional way to put the running build on dashboards and alerts.
func Collector() prometheus.Collector {
	i := Read()
	g := prometheus.NewGauge(prometheus.GaugeOpts{Name: "cowdisk_build_info",
		Help:        "The running cowdisk build; always 1.",
		ConstLabels: prometheus.Labels{"version": i.Version, "commit": i.Commit, "goversion": i.GoVersion}})
	g.Set(1)
	return g
}
