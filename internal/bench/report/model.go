// Package report holds the benchmark's results and writes them three ways:
// a markdown table for humans (and the README), JSON with every raw sample
// for anyone who distrusts the summary, and an SVG chart drawn here, with no
// external plotting tool.
package report

import (
	"time"

	"github.com/cowdisk/cowdisk/internal/bench/stats"
)

// Path identifies one way of getting from "request" to "disk ready".
type Path string

// The paths the benchmark compares. Floor and the baselines use no cowdisk
// provisioning code; they are what cowdisk is measured against.
const (
	PathFloor   Path = "floor"        // bare clone via internal/ceph Clone (the one go-ceph wrapper)
	PathClone   Path = "clone"        // cowdisk clone path through the agent HTTP API
	PathCold    Path = "cold"         // cowdisk fallback, no base yet
	PathWarm    Path = "warm"         // cowdisk fallback, base made by another node
	PathRBD     Path = "rbd-import"   // baseline: rbd import of the local raw file
	PathQemuRBD Path = "qemu-img-rbd" // baseline: qemu-img convert -O raw file rbd:...
	PathNaive   Path = "naive"        // baseline: download, qemu-img convert to file, rbd import
	PathUpload  Path = "upload"       // cowdisk image service: upload of the raw file into its RBD store
	FormatRaw        = "raw"
	FormatQCOW2      = "qcow2"
)

// Labels are the human names used in the table and chart legend.
var Labels = map[Path]string{
	PathFloor:   "floor: bare librbd clone (internal/ceph Clone)",
	PathClone:   "cowdisk clone (agent API)",
	PathCold:    "cowdisk fallback, cold",
	PathWarm:    "cowdisk fallback, warm (base exists)",
	PathRBD:     "baseline: rbd import of local raw",
	PathQemuRBD: "baseline: qemu-img convert → rbd:",
	PathNaive:   "baseline: naive (download, qemu-img, rbd import)",
	PathUpload:  "cowdisk upload into the RBD store (image service)",
}

// PathOrder is the row order of the table and the legend.
var PathOrder = []Path{PathFloor, PathClone, PathWarm, PathCold, PathRBD, PathQemuRBD, PathNaive, PathUpload}

// Machine is what the numbers were measured on.
type Machine struct {
	CPUs        int    `json:"cpus"`
	MemoryBytes uint64 `json:"memory_bytes"`
	Kernel      string `json:"kernel"`
	Ceph        string `json:"ceph"`
	ObjectStore string `json:"objectstore"`
	Go          string `json:"go"`
}

// Series is the time to ready, in seconds, of one path for one image.
type Series struct {
	Path    Path          `json:"path"`
	Format  string        `json:"format"`
	Size    int64         `json:"size_bytes"`
	Samples []float64     `json:"samples_s"`
	Summary stats.Summary `json:"summary"`
	Methods []string      `json:"methods,omitempty"` // what the agent said it did, per sample
}

// Throughput is many disks made at a fixed concurrency.
type Throughput struct {
	Path        Path          `json:"path"`
	Disks       int           `json:"disks"`
	Concurrency int           `json:"concurrency"`
	WallSeconds float64       `json:"wall_s"`
	DisksPerSec float64       `json:"disks_per_s"`
	Latencies   []float64     `json:"latencies_s"`
	Summary     stats.Summary `json:"summary"`
}

// Storm is a boot storm: many disks at once from one image.
type Storm struct {
	Name        string         `json:"name"`
	Format      string         `json:"format"`
	Size        int64          `json:"size_bytes"`
	Throughput                 // disks, concurrency, latencies
	Downloads   float64        `json:"downloads"`   // from the agent's /metrics, delta over the storm
	Conversions float64        `json:"conversions"` // likewise
	Methods     map[string]int `json:"methods"`
}

// RSS is the agent's peak resident set while it made one disk by Path
// (cold: the fallback's import; warm: a clone of the base). A missing Path
// (results of older runs) is cold.
type RSS struct {
	Path      Path    `json:"path,omitempty"`
	Format    string  `json:"format"`
	Size      int64   `json:"size_bytes"`
	PeakBytes uint64  `json:"peak_bytes"` // VmHWM of the agent process
	Seconds   float64 `json:"seconds"`
}

// Target is one goal from issue 6, judged on ratios from the same run.
type Target struct {
	Name     string  `json:"name"`
	Limit    string  `json:"limit"`
	Got      string  `json:"got"`
	Measured bool    `json:"measured"`
	Pass     bool    `json:"pass"`
	Value    float64 `json:"value"`
}

// Verdict is the plain word the table prints for a target.
func (t Target) Verdict() string {
	switch {
	case !t.Measured:
		return "NOT MEASURED"
	case t.Pass:
		return "PASS"
	default:
		return "MISS"
	}
}

// Result is one whole benchmark run.
type Result struct {
	Started     time.Time    `json:"started"`
	WallSeconds float64      `json:"wall_s"`
	Machine     Machine      `json:"machine"`
	Sizes       []int64      `json:"sizes_bytes"`
	Reps        int          `json:"reps"`
	LargeReps   int          `json:"large_reps"` // above 1 GiB
	Series      []Series     `json:"series"`
	Throughput  []Throughput `json:"throughput"`
	Storms      []Storm      `json:"storms"`
	Steps       []Steps      `json:"steps,omitempty"` // per-step breakdown of the clone path
	RSS         []RSS        `json:"rss"`
	CPU         []CPU        `json:"cpu,omitempty"` // CPU seconds per sample, by process
	Targets     []Target     `json:"targets"`
	Errors      []string     `json:"errors,omitempty"` // paths that failed; the rest still counts
	Notes       []string     `json:"notes,omitempty"`  // how the paths were set up, printed under the header
}

// Add appends one sample to the series of (path, format, size), creating it.
func (r *Result) Add(p Path, format string, size int64, seconds float64, method string) {
	s := r.series(p, format, size)
	if s == nil {
		r.Series = append(r.Series, Series{Path: p, Format: format, Size: size})
		s = &r.Series[len(r.Series)-1]
	}
	s.Samples = append(s.Samples, seconds)
	if method != "" {
		s.Methods = append(s.Methods, method)
	}
	s.Summary = stats.Summarize(s.Samples)
}

// Find returns the series of (path, format, size) or nil.
func (r *Result) Find(p Path, format string, size int64) *Series { return r.series(p, format, size) }

func (r *Result) series(p Path, format string, size int64) *Series {
	for i := range r.Series {
		s := &r.Series[i]
		if s.Path == p && s.Format == format && s.Size == size {
			return s
		}
	}
	return nil
}

// FindThroughput returns the throughput run of path p, or nil.
func (r *Result) FindThroughput(p Path) *Throughput {
	for i := range r.Throughput {
		if r.Throughput[i].Path == p {
			return &r.Throughput[i]
		}
	}
	return nil
}

// NewThroughput summarises latencies measured over wall seconds.
func NewThroughput(p Path, concurrency int, wall float64, latencies []float64) Throughput {
	t := Throughput{Path: p, Disks: len(latencies), Concurrency: concurrency, WallSeconds: wall,
		Latencies: latencies, Summary: stats.Summarize(latencies)}
	if wall > 0 {
		t.DisksPerSec = float64(len(latencies)) / wall
	}
	return t
}

// Steps is where a path's disk creates spent their time, as the agent's
// cowdisk_disk_create_step_seconds tells it: the mean of each step (ms)
// over the disks of method made at this size.
type Steps struct {
	Path   Path               `json:"path"`
	Size   int64              `json:"size_bytes"`
	Method string             `json:"method"`
	Disks  int                `json:"disks"`
	MeanMS map[string]float64 `json:"mean_ms"` // step -> mean milliseconds
}
