package bench

import (
	"context"
	"fmt"

	"github.com/cowdisk/cowdisk/internal/agent"
	"github.com/cowdisk/cowdisk/internal/bench/promtext"
	rp "github.com/cowdisk/cowdisk/internal/bench/report"
	"github.com/cowdisk/cowdisk/internal/provisioner"
)

// stepSums reads the per-step sums and counts of method's creates from n's
// /metrics; two readings around a series give its breakdown (stepMeans).
func stepSums(ctx context.Context, n *node, method string) (map[string]float64, error) {
	var names []string
	for _, s := range provisioner.Steps {
		sel := fmt.Sprintf(`{method=%q,step=%q}`, method, s)
		names = append(names, agent.MetricStep+"_sum"+sel, agent.MetricStep+"_count"+sel)
	}
	return promtext.Scrape(ctx, n.metricsURL(), names...)
}

// stepMeans turns two readings of stepSums into the mean of each step over
// the creates between them; ok is false when there were none.
func stepMeans(p rp.Path, size int64, method string, before, after map[string]float64) (rp.Steps, bool) {
	out := rp.Steps{Path: p, Size: size, Method: method, MeanMS: map[string]float64{}}
	for _, s := range provisioner.Steps {
		sel := fmt.Sprintf(`{method=%q,step=%q}`, method, s)
		n := after[agent.MetricStep+"_count"+sel] - before[agent.MetricStep+"_count"+sel]
		if n <= 0 {
			return rp.Steps{}, false
		}
		out.Disks = int(n)
		out.MeanMS[string(s)] = 1000 * (after[agent.MetricStep+"_sum"+sel] - before[agent.MetricStep+"_sum"+sel]) / n
	}
	return out, true
}
