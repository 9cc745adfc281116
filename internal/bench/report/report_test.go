package report

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

const (
	small = 256 << 20
	large = 4 << 30
)

// sample builds a run where every target passes except the ones the test
// case breaks on purpose.
func sample() *Result {
	r := &Result{Started: time.Date(2026, 11, 25, 22, 0, 0, 0, time.UTC), Reps: 3, LargeReps: 2, Sizes: []int64{large, small},
		Machine: Machine{CPUs: 2, MemoryBytes: 24 << 30, Kernel: "6.1", Ceph: "16.2.15", ObjectStore: "memstore", Go: "go1.26"}}
	for _, size := range []int64{small, large} {
		k := float64(size) / small
		for _, v := range []float64{0.018, 0.020, 0.022} {
			r.Add(PathFloor, FormatRaw, size, v, "")
			r.Add(PathClone, FormatRaw, size, v*1.2, "clone")
			r.Add(PathWarm, FormatRaw, size, v*1.3, "base-clone")
			r.Add(PathWarm, FormatQCOW2, size, v*1.3, "base-clone")
			r.Add(PathRBD, FormatRaw, size, v*40*k, "")
			r.Add(PathCold, FormatRaw, size, v*44*k, "base-clone")
			r.Add(PathNaive, FormatRaw, size, v*100*k, "")
			r.Add(PathCold, FormatQCOW2, size, v*45*k, "base-clone")
			r.Add(PathNaive, FormatQCOW2, size, v*110*k, "")
			r.Add(PathUpload, FormatRaw, size, v*45*k, "")
			r.AddCPU(PathCold, FormatRaw, size, CPUSample{Node: 0.5 * k, Images: 0.25 * k, Client: 0.01})
		}
	}
	r.Throughput = []Throughput{NewThroughput(PathFloor, 8, 1, make([]float64, 100)), NewThroughput(PathClone, 8, 1, make([]float64, 80))}
	r.Storms = []Storm{{Name: "cold", Format: FormatQCOW2, Size: small, Throughput: NewThroughput(PathCold, 32, 2, []float64{1, 2}),
		Downloads: 1, Conversions: 1, Methods: map[string]int{"base-clone": 32}},
		{Name: "clonable raw", Format: FormatRaw, Size: small, Throughput: NewThroughput(PathClone, 32, 1, make([]float64, 80))},
		{Name: "bare clones", Format: FormatRaw, Size: small, Throughput: NewThroughput(PathFloor, 32, 1, make([]float64, 100))}}
	r.RSS = []RSS{{Format: FormatRaw, Size: large, PeakBytes: 90 * MiB, Seconds: 12},
		{Path: PathCold, Format: FormatQCOW2, Size: large, PeakBytes: 120 * MiB, Seconds: 14},
		{Path: PathCold, Format: FormatQCOW2, Size: small, PeakBytes: 900 * MiB, Seconds: 1}, // not the largest image: not judged
		{Path: PathWarm, Format: FormatRaw, Size: large, PeakBytes: 900 * MiB, Seconds: 1}}   // no import: not judged
	return r
}

func verdicts(r *Result) map[string]string {
	r.Evaluate()
	m := map[string]string{}
	for _, t := range r.Targets {
		m[t.Name] = t.Verdict()
	}
	return m
}

func TestEvaluate(t *testing.T) {
	tests := []struct {
		name   string
		break_ func(*Result)
		target string
		want   string
	}{
		{"all pass", func(*Result) {}, "clone p50 ≤ 1.5× floor p50", "PASS"},
		{"slow clone", func(r *Result) { r.Find(PathClone, FormatRaw, large).Summary.Median = 0.04 }, "clone p50 ≤ 1.5× floor p50", "MISS"},
		{"clone not flat", func(r *Result) { r.Find(PathClone, FormatRaw, large).Summary.Median = 0.03 }, "clone flat in size (largest/smallest p50 ≤ 1.2×)", "MISS"},
		{"one size", func(r *Result) { r.Sizes = []int64{small} }, "clone flat in size (largest/smallest p50 ≤ 1.2×)", "NOT MEASURED"},
		{"throughput", func(r *Result) { r.Throughput[1].DisksPerSec = 60 }, "clone throughput @8 ≥ 0.7× floor @8", "MISS"},
		{"cold raw vs rbd", func(r *Result) { r.Find(PathCold, FormatRaw, small).Summary.Median = 1 }, "cold raw ≤ 1.2× rbd import", "MISS"},
		{"naive missing", func(r *Result) { r.Series = dropPath(r.Series, PathNaive) }, "cold qcow2 ≤ 0.5× naive", "NOT MEASURED"},
		{"slow storm", func(r *Result) { r.Storms[1].DisksPerSec = 60 }, "32 clonable boots ≥ 0.7× the disks/s of 32 bare clones", "MISS"},
		{"no floor storm", func(r *Result) { r.Storms = r.Storms[:2] }, "32 clonable boots ≥ 0.7× the disks/s of 32 bare clones", "NOT MEASURED"},
		{"two downloads", func(r *Result) { r.Storms[0].Downloads = 2 }, "cold qcow2 storm: one download, one conversion", "MISS"},
		{"fat agent", func(r *Result) { r.RSS[0].PeakBytes = 200 * MiB }, "agent peak RSS in a cold import of the largest image", "MISS"},
		{"fat qcow2 agent, issue 15", func(r *Result) { r.RSS[1].PeakBytes = 200 * MiB }, "issue 15: agent peak RSS in a cold import of the largest image", "MISS"},
		{"under 200 MiB, issue 15", func(r *Result) { r.RSS[1].PeakBytes = 180 * MiB }, "issue 15: agent peak RSS in a cold import of the largest image", "PASS"},
		{"slow upload", func(r *Result) { r.Find(PathUpload, FormatRaw, large).Summary.Median *= 1.3 }, "issue 15: upload raw into the RBD store ≤ 1.25× rbd import", "MISS"},
		{"no upload", func(r *Result) { r.Series = dropPath(r.Series, PathUpload) }, "issue 15: upload raw into the RBD store ≤ 1.25× rbd import", "NOT MEASURED"},
		{"no rss", func(r *Result) { r.RSS = nil }, "agent peak RSS in a cold import of the largest image", "NOT MEASURED"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := sample()
			tt.break_(r)
			got, ok := verdicts(r)[tt.target]
			if !ok {
				t.Fatalf("no target named %q", tt.target)
			}
			if got != tt.want {
				t.Fatalf("%s: %s, want %s", tt.target, got, tt.want)
			}
		})
	}
	for name, v := range verdicts(sample()) {
		if v != "PASS" {
			t.Errorf("baseline sample: %s is %s, want PASS", name, v)
		}
	}
}

func dropPath(in []Series, p Path) []Series {
	var out []Series
	for _, s := range in {
		if s.Path != p {
			out = append(out, s)
		}
	}
	return out
}

func TestMarkdown(t *testing.T) {
	r := sample()
	r.Find(PathCold, FormatRaw, small).Summary.Median = 1
	r.Notes = []string{"cold: a node that trusts no pool"}
	r.Evaluate()
	var b bytes.Buffer
	if err := r.Markdown(&b); err != nil {
		t.Fatal(err)
	}
	md := b.String()
	for _, want := range []string{"2 CPUs", "3 reps per path and size (2 above 1GiB)", "kernel 6.1", "Ceph 16.2.15", "| **PASS** |", "| **MISS** |",
		"| 256MiB | 4GiB |", "internal/ceph", "cold qcow2 / naive qcow2", "| upload raw / rbd-import raw | 1.12× | 1.12× |", "storm: cold", "90 MiB", "base-clone 32",
		"| cowdisk fallback, cold | raw | 2.00 + 1.00 + 0.04 = **3.04** |", "| cowdisk fallback, warm (base exists) | raw | — | 900 MiB", "- cold: a node that trusts no pool\n"} {
		if !strings.Contains(md, want) {
			t.Errorf("markdown lacks %q:\n%s", want, md)
		}
	}
	if i, j := strings.Index(md, "256MiB"), strings.Index(md, "4GiB"); i > j {
		t.Error("sizes not in ascending order")
	}
}

func TestJSONKeepsRawSamples(t *testing.T) {
	var b bytes.Buffer
	if err := sample().JSON(&b); err != nil {
		t.Fatal(err)
	}
	var back Result
	if err := json.Unmarshal(b.Bytes(), &back); err != nil {
		t.Fatal(err)
	}
	s := back.Find(PathFloor, FormatRaw, small)
	if s == nil || len(s.Samples) != 3 || s.Summary.Median != 0.020 {
		t.Fatalf("floor series after round trip: %+v", s)
	}
}

func TestSVGIsWellFormedWithOneLinePerPath(t *testing.T) {
	for _, sizes := range [][]int64{{small, large}, {small}} {
		r := sample()
		r.Sizes = sizes
		var b bytes.Buffer
		if err := r.SVG(&b); err != nil {
			t.Fatal(err)
		}
		d := xml.NewDecoder(&b)
		lines := 0
		for {
			tok, err := d.Token()
			if err != nil {
				if err.Error() != "EOF" {
					t.Fatalf("svg does not parse: %v", err)
				}
				break
			}
			if se, ok := tok.(xml.StartElement); ok && se.Name.Local == "polyline" {
				lines++
			}
		}
		if lines != 10 {
			t.Errorf("sizes %v: %d polylines, want 10 (one per path and format)", sizes, lines)
		}
		if strings.Contains(b.String(), "NaN") || strings.Contains(b.String(), "Inf") {
			t.Errorf("sizes %v: coordinates contain NaN/Inf", sizes)
		}
	}
}

func TestWriteDir(t *testing.T) {
	dir := t.TempDir()
	r := sample()
	r.Evaluate()
	if err := r.WriteDir(dir); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{Files.Markdown, Files.JSON, Files.SVG} {
		if st, err := os.Stat(filepath.Join(dir, f)); err != nil || st.Size() == 0 {
			t.Errorf("%s: %v", f, err)
		}
	}
}

func TestSizes(t *testing.T) {
	tests := []struct {
		in   string
		want []int64
		ok   bool
	}{
		{"256MiB,1GiB,4GiB", []int64{256 << 20, 1 << 30, 4 << 30}, true},
		{"64M", []int64{64 << 20}, true},
		{"4096", []int64{4096}, true},
		{"", nil, false},
		{"lots", nil, false},
		{"-1GiB", nil, false},
	}
	for _, tt := range tests {
		got, err := ParseSizes(tt.in)
		if (err == nil) != tt.ok || len(got) != len(tt.want) {
			t.Errorf("ParseSizes(%q) = %v, %v", tt.in, got, err)
			continue
		}
		for i := range got {
			if got[i] != tt.want[i] || (tt.ok && mustParse(t, HumanSize(got[i])) != got[i]) {
				t.Errorf("ParseSizes(%q)[%d] = %d, want %d", tt.in, i, got[i], tt.want[i])
			}
		}
	}
}

func mustParse(t *testing.T, s string) int64 {
	n, err := ParseSize(s)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func TestDuration(t *testing.T) {
	tests := map[float64]string{0.0182: "18.2 ms", 0.0031: "3.10 ms", 0.5: "500 ms", 3.214: "3.21 s", 42.4: "42.4 s", 0: "0"}
	for in, want := range tests {
		if got := Duration(in); got != want {
			t.Errorf("Duration(%v) = %q, want %q", in, got, want)
		}
	}
}
