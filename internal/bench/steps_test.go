package bench

import (
	"testing"

	"github.com/cowdisk/cowdisk/internal/agent"
	rp "github.com/cowdisk/cowdisk/internal/bench/report"
	"github.com/cowdisk/cowdisk/internal/provisioner"
)

// stepMeans is the difference of two readings divided by the disks made
// between them; no disk, no breakdown.
func TestStepMeans(t *testing.T) {
	key := func(kind string, s provisioner.Step) string {
		return agent.MetricStep + "_" + kind + `{method="clone",step="` + string(s) + `"}`
	}
	before, after := map[string]float64{}, map[string]float64{}
	for i, s := range provisioner.Steps {
		before[key("sum", s)], before[key("count", s)] = 1, 2
		after[key("sum", s)], after[key("count", s)] = 1+0.004*float64(i+1), 6
	}
	got, ok := stepMeans(rp.PathClone, 1<<30, "clone", before, after)
	if !ok || got.Disks != 4 {
		t.Fatalf("stepMeans = %+v %v, want 4 disks", got, ok)
	}
	for i, s := range provisioner.Steps {
		if want := float64(i + 1); got.MeanMS[string(s)] < want-1e-9 || got.MeanMS[string(s)] > want+1e-9 {
			t.Errorf("%s: %v ms, want %v", s, got.MeanMS[string(s)], want)
		}
	}
	if _, ok := stepMeans(rp.PathClone, 1<<30, "clone", after, after); ok {
		t.Error("a breakdown with no disk between the readings")
	}
}
