package provisioner

import (
	"testing"
	"time"
)

func TestPrunable(t *testing.T) {
	now := time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)
	bases := []Base{
		{Image: "used", Children: []string{"vms/d"}, Created: now.Add(-100 * time.Hour)},
		{Image: "old", Created: now.Add(-100 * time.Hour)},
		{Image: "young", Created: now.Add(-time.Hour)},
		{Image: "unknown"},
	}
	for _, c := range []struct {
		o    PruneOptions
		want string
	}{
		{PruneOptions{}, "old,young,unknown"},
		{PruneOptions{DryRun: true}, "old,young,unknown"},
		{PruneOptions{OlderThan: 72 * time.Hour}, "old"},
		{PruneOptions{OlderThan: 200 * time.Hour}, ""},
	} {
		var got string
		for i, b := range prunable(bases, c.o, now) {
			if i > 0 {
				got += ","
			}
			got += b.Image
		}
		if got != c.want {
			t.Errorf("%+v: %q, want %q", c.o, got, c.want)
		}
	}
}
