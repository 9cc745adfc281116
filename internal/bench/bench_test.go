package bench

import (
	"slices"
	"testing"

	rp "github.com/cowdisk/cowdisk/internal/bench/report"
)

func TestDefaultsStormSize(t *testing.T) {
	tests := []struct {
		sizes []int64
		want  int64
	}{
		{[]int64{4 << 30, 256 << 20, 1 << 30}, 1 << 30},
		{[]int64{64 << 20}, 64 << 20},
		{[]int64{4 << 30, 2 << 30}, 2 << 30}, // nothing ≤ 1 GiB: the smallest
	}
	for _, tt := range tests {
		c := Config{Sizes: slices.Clone(tt.sizes)}
		c.Defaults()
		if c.StormSize != tt.want || !slices.IsSorted(c.Sizes) {
			t.Errorf("sizes %v: storm size %d, sizes %v; want %d, sorted", tt.sizes, c.StormSize, c.Sizes, tt.want)
		}
		if c.Reps != 3 || c.LargeReps != 2 || c.repsFor(4<<30) != 2 || c.repsFor(1<<30) != 3 || c.Concurrency != 8 || c.StormDisks != 32 || c.DataFraction != 0.4 {
			t.Errorf("defaults %+v", c)
		}
	}
}

func TestAppendRSSKeepsPeakPerImage(t *testing.T) {
	var all []rp.RSS
	for _, x := range []rp.RSS{
		{Format: "raw", Size: 1, PeakBytes: 10},
		{Format: "raw", Size: 1, PeakBytes: 30},
		{Format: "raw", Size: 1, PeakBytes: 20},
		{Format: "qcow2", Size: 1, PeakBytes: 5},
		{Path: rp.PathWarm, Format: "raw", Size: 1, PeakBytes: 7},
	} {
		all = appendRSS(all, x)
	}
	if len(all) != 3 || all[0].PeakBytes != 30 || all[1].PeakBytes != 5 || all[2].PeakBytes != 7 {
		t.Fatalf("appendRSS = %+v", all)
	}
}
