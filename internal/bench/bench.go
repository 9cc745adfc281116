// Package bench is `cowdisk bench`: every way of getting a VM boot disk onto
// RBD, measured side by side in one run on one cluster, against the targets
// of issue 6.
//
// The servers run as child processes (`cowdisk serve images`, `cowdisk serve
// node`), exactly as an operator runs them, and are driven over HTTP; the
// floor is a bare clone through internal/ceph; the baselines are the rbd CLI
// and qemu-img. Sub-packages hold the reusable pieces: the image generator,
// statistics, the report writers, the baseline runners, process control and
// a fixed-concurrency load runner.
package bench

import (
	"cmp"
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/cowdisk/cowdisk/internal/bench/imagegen"
	"github.com/cowdisk/cowdisk/internal/bench/report"
)

// Config is one benchmark run.
type Config struct {
	Bin        string  // the cowdisk binary the servers run from
	ResultsDir string  // results.md, results.json, time-to-ready.svg
	WorkDir    string  // generated images, server state and logs, naive pipeline files
	Sizes      []int64 // image virtual sizes
	Reps       int     // repetitions of every path at every size up to 1 GiB
	// LargeReps is the repetitions above 1 GiB. One 4 GiB rep of all paths
	// moves some 15 GiB through a 2-core box (about 5 minutes); three of
	// them would blow the 20-minute budget of a full run.
	LargeReps    int
	DataFraction float64 // share of each image holding data
	// ClonesPerRep is how many clones one rep of the floor and clone paths
	// makes in a row; clones are cheap, so their medians rest on more samples.
	ClonesPerRep int
	Concurrency  int   // throughput comparison (issue 6: 8)
	Throughput   int   // disks in the throughput comparison
	StormDisks   int   // disks in a boot storm (issue 6: 32)
	StormSize    int64 // image size of the storms; 0 = largest of Sizes up to 1 GiB
	ImagesPool   string
	// ImagesChunkSize is the image service's RBD object size; "" keeps the
	// service's own default (8 MiB, as Glance's rbd_store_chunk_size).
	ImagesChunkSize string
	VMsPool         string
	ObjectStore     string // of the dev cluster, for the report header
	Log             *slog.Logger
}

// Defaults fills what the caller left zero.
func (c *Config) Defaults() {
	setDefault(&c.Reps, 3)
	setDefault(&c.LargeReps, min(2, c.Reps))
	setDefault(&c.DataFraction, 0.4)
	setDefault(&c.ClonesPerRep, 8)
	setDefault(&c.Concurrency, 8)
	setDefault(&c.Throughput, 32)
	setDefault(&c.StormDisks, 32)
	setDefault(&c.ImagesPool, "images")
	setDefault(&c.VMsPool, "vms")
	setDefault(&c.ObjectStore, "memstore")
	if c.Log == nil {
		c.Log = slog.Default()
	}
	slices.Sort(c.Sizes)
	if c.StormSize == 0 && len(c.Sizes) > 0 {
		c.StormSize = c.Sizes[0]
		for _, s := range c.Sizes {
			if s <= 1<<30 {
				c.StormSize = s
			}
		}
	}
}

// largeSize is where LargeReps takes over from Reps.
const largeSize = 1 << 30

func (c Config) repsFor(size int64) int {
	if size > largeSize {
		return c.LargeReps
	}
	return c.Reps
}

// setDefault sets *p to v when it is zero (or negative, for numbers).
func setDefault[T cmp.Ordered](p *T, v T) {
	var zero T
	if *p <= zero {
		*p = v
	}
}

// Run measures everything and writes the results; the returned Result is
// also what was written. A path that fails is recorded in Result.Errors and
// the run goes on, so one broken path does not hide every other number.
func Run(ctx context.Context, cfg Config) (*report.Result, error) {
	cfg.Defaults()
	if len(cfg.Sizes) == 0 {
		return nil, fmt.Errorf("bench: no image sizes")
	}
	start := time.Now()
	res := &report.Result{Started: start, Sizes: cfg.Sizes, Reps: cfg.Reps, LargeReps: cfg.LargeReps,
		Machine: machine(ctx, cfg.ObjectStore), Notes: notes(cfg)}

	cfg.Log.Info("generating images", "sizes", sizeList(cfg.Sizes), "data", cfg.DataFraction)
	files := map[int64]imagegen.Files{}
	for i, size := range cfg.Sizes {
		f, err := imagegen.Ensure(ctx, filepath.Join(cfg.WorkDir, "images"), imagegen.Spec{Size: size, DataFraction: cfg.DataFraction, Seed: uint64(i + 1)})
		if err != nil {
			return nil, err
		}
		files[size] = f
	}

	e, err := startEnv(ctx, cfg)
	if err != nil {
		return nil, err
	}
	defer e.stop()

	for _, size := range cfg.Sizes {
		if err := e.measureSize(ctx, res, size, files[size]); err != nil {
			return nil, err
		}
	}
	e.measureConcurrency(ctx, res, files[cfg.StormSize])

	res.WallSeconds = time.Since(start).Seconds()
	res.Evaluate()
	if err := res.WriteDir(cfg.ResultsDir); err != nil {
		return res, err
	}
	return res, ctx.Err()
}

// notes say how each path was set up, for whoever reads the table without
// this code at hand.
func notes(cfg Config) []string {
	return []string{
		fmt.Sprintf("Images: sparse raw with %.0f%% data in runs of 1–8 MiB (16-symbol alphabet, compresses ~2:1) between zero runs; qcow2 made from them by `qemu-img convert -O qcow2`.", cfg.DataFraction*100),
		fmt.Sprintf("Servers run as child processes: `cowdisk serve images` (RBD store, pool %s, %s) and three `cowdisk serve node` agents.", cfg.ImagesPool, objects(cfg.ImagesChunkSize)),
		"Clone: an ordinary node. Cold: a node whose allow-list trusts no pool, so even a raw RBD image takes the fallback (download, verify, inspect, convert, thin import into a base, clone). Warm: a second such node, which finds that base. Bases are pruned between reps.",
		"Naive: HTTP download to a local file, `qemu-img convert -O raw` to a second file (skipped for raw images, as Nova's fetch_to_raw does), `rbd import`; per-phase times are in the JSON.",
		"Downloads and conversions come from the agent's /metrics; peak RSS is VmHWM of the node that made the disk, reset (clear_refs) just before it, at every size.",
		"Upload: the raw file through the Glance API into the image service's RBD store (md5 and sha512 computed, inspector run), timed from create to the record read back, against `rbd import` of the same file.",
		"CPU: /proc/<pid>/stat of the node agents and the image service, and getrusage of the bench and the tools it waited for (rbd, qemu-img, the naive download), read just before and after each measured step (cleanup not included).",
	}
}

func objects(chunk string) string {
	if chunk == "" {
		return "the service's default object size"
	}
	return chunk + " objects"
}

func sizeList(sizes []int64) []string {
	var out []string
	for _, s := range sizes {
		out = append(out, report.HumanSize(s))
	}
	return out
}

// workDir makes (and returns) a sub-directory of the work dir.
func (c Config) workDir(name string) (string, error) {
	d := filepath.Join(c.WorkDir, name)
	if err := os.MkdirAll(d, 0o755); err != nil {
		return "", fmt.Errorf("work dir: %w", err)
	}
	return d, nil
}
