package stats

import "testing"

func TestSummarize(t *testing.T) {
	tests := []struct {
		name string
		in   []float64
		want Summary
	}{
		{"empty", nil, Summary{}},
		{"one", []float64{3}, Summary{N: 1, Min: 3, Median: 3, Max: 3, P50: 3, P99: 3}},
		{"two averages median", []float64{4, 2}, Summary{N: 2, Min: 2, Median: 3, Max: 4, P50: 2, P99: 4}},
		{"odd unsorted", []float64{5, 1, 3}, Summary{N: 3, Min: 1, Median: 3, Max: 5, P50: 3, P99: 5}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Summarize(tt.in); got != tt.want {
				t.Fatalf("Summarize(%v) = %+v, want %+v", tt.in, got, tt.want)
			}
		})
	}
}

func TestPercentileNearestRank(t *testing.T) {
	s := make([]float64, 100)
	for i := range s {
		s[i] = float64(i + 1)
	}
	tests := []struct {
		p    float64
		want float64
	}{{50, 50}, {99, 99}, {100, 100}, {1, 1}, {0, 1}}
	for _, tt := range tests {
		if got := Percentile(s, tt.p); got != tt.want {
			t.Errorf("Percentile(1..100, %v) = %v, want %v", tt.p, got, tt.want)
		}
	}
	// 32 boots: p99 is the slowest one, p50 the 16th.
	s32 := s[:32]
	if got := Percentile(s32, 99); got != 32 {
		t.Errorf("p99 of 32 = %v, want 32", got)
	}
	if got := Percentile(s32, 50); got != 16 {
		t.Errorf("p50 of 32 = %v, want 16", got)
	}
}

func TestSummarizeDoesNotReorderInput(t *testing.T) {
	in := []float64{3, 1, 2}
	Summarize(in)
	if in[0] != 3 || in[1] != 1 || in[2] != 2 {
		t.Fatalf("input reordered: %v", in)
	}
}
