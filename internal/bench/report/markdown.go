package report

import (
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"time"
)

// Markdown writes the human summary: machine, targets, times, ratios,
// concurrency and memory, in that order (the verdicts first, because that is
// what a reader wants to know).
func (r *Result) Markdown(w io.Writer) error {
	var b strings.Builder
	r.header(&b)
	r.targetTable(&b)
	r.timeTable(&b)
	r.ratioTable(&b)
	r.concurrencyTable(&b)
	r.cpuTable(&b)
	r.rssTable(&b)
	if len(r.Errors) > 0 {
		b.WriteString("\n### Errors\n\n")
		for _, e := range r.Errors {
			fmt.Fprintf(&b, "- %s\n", e)
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func (r *Result) header(b *strings.Builder) {
	m := r.Machine
	fmt.Fprintf(b, "## cowdisk bench, %s\n\n", r.Started.UTC().Format("2006-01-02 15:04 UTC"))
	fmt.Fprintf(b, "Machine: %d CPUs, %.1f GiB RAM, kernel %s, Ceph %s (%s OSD, 1 mon + 1 OSD on loopback), %s. ",
		m.CPUs, float64(m.MemoryBytes)/(1<<30), m.Kernel, m.Ceph, m.ObjectStore, m.Go)
	reps := fmt.Sprintf("%d reps per path and size", r.Reps)
	if r.LargeReps > 0 && r.LargeReps != r.Reps && slices.ContainsFunc(r.Sizes, func(s int64) bool { return s > 1<<30 }) {
		reps += fmt.Sprintf(" (%d above 1GiB)", r.LargeReps)
	}
	fmt.Fprintf(b, "%s; run took %s.\n\n", reps, time.Duration(r.WallSeconds*float64(time.Second)).Round(time.Second))
	b.WriteString("Floor is a bare clone through `internal/ceph` `Clone`, the project's only go-ceph wrapper " +
		"(no provisioning code). Times run from request to disk ready; medians, with min–max over the reps.\n\n")
	for _, n := range r.Notes {
		fmt.Fprintf(b, "- %s\n", n)
	}
	if len(r.Notes) > 0 {
		b.WriteString("\n")
	}
}

func (r *Result) targetTable(b *strings.Builder) {
	b.WriteString("| target (issue 6 unless named) | limit | measured | verdict |\n|---|---|---|---|\n")
	for _, t := range r.Targets {
		got := t.Got
		if got == "" {
			got = "—"
		}
		fmt.Fprintf(b, "| %s | %s | %s | **%s** |\n", t.Name, t.Limit, got, t.Verdict())
	}
	b.WriteString("\n")
}

func (r *Result) sortedSizes() []int64 {
	s := slices.Clone(r.Sizes)
	slices.Sort(s)
	return s
}

// sizeHeader writes a table header: the lead columns, then one per size.
func sizeHeader(b *strings.Builder, lead []string, sizes []int64) {
	cols := slices.Clone(lead)
	for _, s := range sizes {
		cols = append(cols, HumanSize(s))
	}
	b.WriteString("| " + strings.Join(cols, " | ") + " |\n|" + strings.Repeat("---|", len(cols)) + "\n")
}

func (r *Result) timeTable(b *strings.Builder) {
	b.WriteString("### Time to ready\n\n")
	sizeHeader(b, []string{"path", "image"}, r.sortedSizes())
	pathRows(b, PathOrder, r.sortedSizes(), func(p Path, f string, size int64) (string, bool) {
		s := r.Find(p, f, size)
		return cell(s), s != nil && s.Summary.N > 0
	})
	b.WriteString("\n")
}

// pathRows writes one table row per path and format, with one cell per
// size; a row none of whose cells has data is left out.
func pathRows(b *strings.Builder, paths []Path, sizes []int64, cell func(p Path, f string, size int64) (string, bool)) {
	for _, p := range paths {
		for _, f := range []string{FormatRaw, FormatQCOW2} {
			cells, any := make([]string, len(sizes)), false
			for i, size := range sizes {
				var ok bool
				cells[i], ok = cell(p, f, size)
				any = any || ok
			}
			if any {
				fmt.Fprintf(b, "| %s | %s | %s |\n", Labels[p], f, strings.Join(cells, " | "))
			}
		}
	}
}

func (r *Result) hasSeries(p Path, f string) bool {
	return slices.ContainsFunc(r.Series, func(s Series) bool { return s.Path == p && s.Format == f })
}

func cell(s *Series) string {
	if s == nil || s.Summary.N == 0 {
		return "—"
	}
	return fmt.Sprintf("%s (%s–%s, n=%d)", Duration(s.Summary.Median), Duration(s.Summary.Min), Duration(s.Summary.Max), s.Summary.N)
}

// ratioRow is one "a / b" line of the ratio table.
type ratioRow struct {
	a, b   Path
	af, bf string
}

var ratioRows = []ratioRow{
	{PathClone, PathFloor, FormatRaw, FormatRaw},
	{PathWarm, PathFloor, FormatRaw, FormatRaw},
	{PathWarm, PathFloor, FormatQCOW2, FormatRaw},
	{PathCold, PathRBD, FormatRaw, FormatRaw},
	{PathCold, PathNaive, FormatRaw, FormatRaw},
	{PathCold, PathQemuRBD, FormatRaw, FormatRaw},
	{PathCold, PathNaive, FormatQCOW2, FormatQCOW2},
	{PathCold, PathQemuRBD, FormatQCOW2, FormatQCOW2},
	{PathNaive, PathClone, FormatRaw, FormatRaw},
	{PathUpload, PathRBD, FormatRaw, FormatRaw},
}

func (r *Result) ratioTable(b *strings.Builder) {
	sizes := r.sortedSizes()
	b.WriteString("### Ratios (median / median, same run; below 1 means the left side is faster)\n\n")
	sizeHeader(b, []string{"ratio"}, sizes)
	for _, row := range ratioRows {
		if !r.hasSeries(row.a, row.af) || !r.hasSeries(row.b, row.bf) {
			continue
		}
		fmt.Fprintf(b, "| %s %s / %s %s |", row.a, row.af, row.b, row.bf)
		for _, size := range sizes {
			sa, sb := r.Find(row.a, row.af, size), r.Find(row.b, row.bf, size)
			if sa == nil || sb == nil || sb.Summary.Median == 0 {
				b.WriteString(" — |")
				continue
			}
			fmt.Fprintf(b, " %.2f× |", sa.Summary.Median/sb.Summary.Median)
		}
		b.WriteString("\n")
	}
	b.WriteString("\n")
}

func (r *Result) concurrencyTable(b *strings.Builder) {
	if len(r.Throughput) == 0 && len(r.Storms) == 0 {
		return
	}
	b.WriteString("### Concurrency\n\n| run | disks | concurrency | disks/s | p50 | p99 | downloads | conversions | methods |\n|---|---|---|---|---|---|---|---|---|\n")
	for _, t := range r.Throughput {
		fmt.Fprintf(b, "| %s | %d | %d | %.1f | %s | %s | | | |\n", Labels[t.Path], t.Disks, t.Concurrency,
			t.DisksPerSec, Duration(t.Summary.P50), Duration(t.Summary.P99))
	}
	for _, s := range r.Storms {
		fmt.Fprintf(b, "| storm: %s (%s %s) | %d | %d | %.1f | %s | %s | %g | %g | %s |\n", s.Name, s.Format, HumanSize(s.Size),
			s.Disks, s.Concurrency, s.DisksPerSec, Duration(s.Summary.P50), Duration(s.Summary.P99),
			s.Downloads, s.Conversions, methods(s.Methods))
	}
	b.WriteString("\n")
}

func methods(m map[string]int) string {
	var parts []string
	for _, k := range slices.Sorted(maps.Keys(m)) {
		parts = append(parts, fmt.Sprintf("%s %d", k, m[k]))
	}
	return strings.Join(parts, ", ")
}

// rssTable shows the agent's peak RSS per path, format and size: VmHWM of
// the node that made the disk, reset just before it.
func (r *Result) rssTable(b *strings.Builder) {
	if len(r.RSS) == 0 {
		return
	}
	b.WriteString("### Agent peak RSS (VmHWM of the `serve node` process, reset before each disk; worst over the reps)\n\n")
	sizeHeader(b, []string{"path", "image"}, r.sortedSizes())
	pathRows(b, []Path{PathCold, PathWarm}, r.sortedSizes(), func(p Path, f string, size int64) (string, bool) {
		for _, x := range r.RSS {
			if x.Format == f && x.Size == size && (x.Path == p || (x.Path == "" && p == PathCold)) {
				return fmt.Sprintf("%.0f MiB (%s)", float64(x.PeakBytes)/MiB, Duration(x.Seconds)), true
			}
		}
		return "—", false
	})
	b.WriteString("\n")
}
