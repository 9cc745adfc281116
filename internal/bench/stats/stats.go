// Package stats summarises benchmark samples: min, median, max and the
// nearest-rank percentiles the report quotes. It has no notion of time units;
// callers pass seconds (or any other float) consistently.
package stats

import (
	"math"
	"slices"
)

// Summary describes one set of samples.
type Summary struct {
	N      int     `json:"n"`
	Min    float64 `json:"min"`
	Median float64 `json:"median"`
	Max    float64 `json:"max"`
	P50    float64 `json:"p50"`
	P99    float64 `json:"p99"`
}

// Summarize returns the summary of xs; an empty input gives a zero Summary
// (N == 0) so callers can tell "not measured" from "measured zero".
func Summarize(xs []float64) Summary {
	if len(xs) == 0 {
		return Summary{}
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	return Summary{
		N:      len(s),
		Min:    s[0],
		Median: median(s),
		Max:    s[len(s)-1],
		P50:    Percentile(s, 50),
		P99:    Percentile(s, 99),
	}
}

// median of sorted s; the mean of the two middle values for even n, so two
// repetitions give their mean rather than the smaller one.
func median(s []float64) float64 {
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}

// Percentile is the nearest-rank percentile of sorted s (p in (0,100]).
// Nearest rank always returns an observed sample, which is what a p99 of 32
// boots should mean: the slowest boot but none, not an interpolation.
func Percentile(sorted []float64, p float64) float64 {
	if len(sorted) == 0 {
		return 0
	}
	rank := int(math.Ceil(p / 100 * float64(len(sorted))))
	rank = max(1, min(rank, len(sorted)))
	return sorted[rank-1]
}
