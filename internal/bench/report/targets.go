package report

import (
	"fmt"
	"slices"
)

// MiB is the unit the RSS target is stated in.
const MiB = 1 << 20

// Evaluate judges every target of issue 6 on this run's own numbers and
// stores the verdicts in r.Targets. A target whose inputs were not measured
// (a path failed, or --sizes gave a single size) is reported as such rather
// than silently passed.
func (r *Result) Evaluate() {
	sizes := slices.Clone(r.Sizes)
	slices.Sort(sizes)
	r.Targets = []Target{
		r.worstRatio("clone p50 ≤ 1.5× floor p50", PathClone, FormatRaw, PathFloor, FormatRaw, 1.5, sizes),
		r.flat("clone flat in size (largest/smallest p50 ≤ 1.2×)", PathClone, FormatRaw, 1.2, sizes),
		r.throughputRatio("clone throughput @8 ≥ 0.7× floor @8", 0.7),
		r.stormRatio("32 clonable boots ≥ 0.7× the disks/s of 32 bare clones", 0.7),
		r.worstRatio("cold raw ≤ 1.2× rbd import", PathCold, FormatRaw, PathRBD, FormatRaw, 1.2, sizes),
		r.worstRatio("cold raw ≤ 0.6× naive", PathCold, FormatRaw, PathNaive, FormatRaw, 0.6, sizes),
		r.worstRatio("cold qcow2 ≤ 0.5× naive", PathCold, FormatQCOW2, PathNaive, FormatQCOW2, 0.5, sizes),
		r.worstRatio("warm raw p50 ≤ 1.5× floor p50", PathWarm, FormatRaw, PathFloor, FormatRaw, 1.5, sizes),
		r.worstRatio("warm qcow2 p50 ≤ 1.5× floor p50", PathWarm, FormatQCOW2, PathFloor, FormatRaw, 1.5, sizes),
		r.flat("warm qcow2 flat in size (≤ 1.2×)", PathWarm, FormatQCOW2, 1.2, sizes),
		r.stormOnce(),
		r.rssLimit("agent peak RSS in a cold import of the largest image", 150*MiB),
		// Issue 15 restates the cold-path ratios above and adds these.
		r.worstRatio("issue 15: upload raw into the RBD store ≤ 1.25× rbd import", PathUpload, FormatRaw, PathRBD, FormatRaw, 1.25, sizes),
		r.rssLimit("issue 15: agent peak RSS in a cold import of the largest image", 200*MiB),
	}
}

// worstRatio compares median(a)/median(b) at every size and keeps the worst,
// because "at most 1.2×" must hold for every image, not on average.
func (r *Result) worstRatio(name string, a Path, af string, b Path, bf string, limit float64, sizes []int64) Target {
	t := Target{Name: name, Limit: fmt.Sprintf("≤ %.2f×", limit)}
	worst, at := 0.0, int64(0)
	for _, size := range sizes {
		sa, sb := r.Find(a, af, size), r.Find(b, bf, size)
		if sa == nil || sb == nil || sa.Summary.N == 0 || sb.Summary.N == 0 || sb.Summary.Median == 0 {
			continue
		}
		if q := sa.Summary.Median / sb.Summary.Median; !t.Measured || q > worst {
			worst, at, t.Measured = q, size, true
		}
	}
	if t.Measured {
		t.Value, t.Pass = worst, worst <= limit
		t.Got = fmt.Sprintf("%.2f× (worst, at %s)", worst, HumanSize(at))
	}
	return t
}

func (r *Result) flat(name string, p Path, format string, limit float64, sizes []int64) Target {
	t := Target{Name: name, Limit: fmt.Sprintf("≤ %.2f×", limit)}
	if len(sizes) < 2 {
		t.Got = "needs two sizes"
		return t
	}
	lo, hi := r.Find(p, format, sizes[0]), r.Find(p, format, sizes[len(sizes)-1])
	if lo == nil || hi == nil || lo.Summary.N == 0 || hi.Summary.N == 0 || lo.Summary.Median == 0 {
		return t
	}
	q := hi.Summary.Median / lo.Summary.Median
	t.Measured, t.Value, t.Pass = true, q, q <= limit
	t.Got = fmt.Sprintf("%.2f× (%s vs %s)", q, HumanSize(sizes[len(sizes)-1]), HumanSize(sizes[0]))
	return t
}

func (r *Result) throughputRatio(name string, limit float64) Target {
	t := Target{Name: name, Limit: fmt.Sprintf("≥ %.2f×", limit)}
	c, f := r.FindThroughput(PathClone), r.FindThroughput(PathFloor)
	if c == nil || f == nil || f.DisksPerSec == 0 {
		return t
	}
	q := c.DisksPerSec / f.DisksPerSec
	t.Measured, t.Value, t.Pass = true, q, q >= limit
	t.Got = fmt.Sprintf("%.2f× (%.1f vs %.1f disks/s)", q, c.DisksPerSec, f.DisksPerSec)
	return t
}

// stormRatio compares the clonable raw storm with the floor storm (bare
// librbd clones at the same concurrency) in disks per second.
func (r *Result) stormRatio(name string, limit float64) Target {
	t := Target{Name: name, Limit: fmt.Sprintf("≥ %.2f×", limit)}
	var clone, floor *Storm
	for i := range r.Storms {
		switch s := &r.Storms[i]; {
		case s.Path == PathFloor:
			floor = s
		case s.Path == PathClone && s.Format == FormatRaw:
			clone = s
		}
	}
	if clone == nil || floor == nil || floor.DisksPerSec == 0 {
		return t
	}
	q := clone.DisksPerSec / floor.DisksPerSec
	t.Measured, t.Value, t.Pass = true, q, q >= limit
	t.Got = fmt.Sprintf("%.2f× (%.1f vs %.1f disks/s at %d)", q, clone.DisksPerSec, floor.DisksPerSec, clone.Concurrency)
	return t
}

func (r *Result) stormOnce() Target {
	t := Target{Name: "cold qcow2 storm: one download, one conversion", Limit: "= 1 and = 1"}
	for _, s := range r.Storms {
		if s.Format != FormatQCOW2 {
			continue
		}
		t.Measured = true
		t.Pass = s.Downloads == 1 && s.Conversions == 1
		t.Got = fmt.Sprintf("%g downloads, %g conversions", s.Downloads, s.Conversions)
	}
	return t
}

// rssLimit judges the worst peak of a cold import (raw or qcow2) of the
// largest image against limit.
func (r *Result) rssLimit(name string, limit uint64) Target {
	t := Target{Name: name, Limit: fmt.Sprintf("< %d MiB", limit/MiB)}
	largest := slices.Max(append([]int64{0}, r.Sizes...))
	for _, x := range r.RSS {
		if x.Size != largest || (x.Path != PathCold && x.Path != "") {
			continue
		}
		if !t.Measured || x.PeakBytes > uint64(t.Value) {
			t.Measured, t.Value = true, float64(x.PeakBytes)
			t.Got = fmt.Sprintf("%.0f MiB (%s %s)", float64(x.PeakBytes)/MiB, x.Format, HumanSize(x.Size))
		}
	}
	t.Pass = t.Measured && uint64(t.Value) < limit
	return t
}
