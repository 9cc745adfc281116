// Package benchcmd is `cowdisk bench`: the side-by-side benchmark of issue 6
// against a running cluster named by CEPH_CONF (scripts/bench.sh boots one).
package benchcmd

import (
	"fmt"
	"log/slog"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/cowdisk/cowdisk/internal/bench"
	"github.com/cowdisk/cowdisk/internal/bench/report"
)

// Command is `cowdisk bench`.
func Command() *cobra.Command {
	var (
		cfg   bench.Config
		sizes string
	)
	c := &cobra.Command{
		Use:   "bench",
		Short: "Measure clone, fallback and baselines side by side on the cluster in CEPH_CONF",
		Long: `Runs the image service and three node agents as child processes, uploads generated
raw and qcow2 images, and measures time to disk ready for: a bare librbd clone
(the floor, through internal/ceph), the cowdisk clone path, the cold and warm
fallback, rbd import, qemu-img convert to rbd:, and the naive download+convert+
import pipeline, and the upload of the raw image into the image service's RBD
store against rbd import of the same file; then clone throughput and two boot
storms. For every path that moves image bytes it records the CPU seconds of the
node agents, the image service and the client tools, and for every disk made by
the fallback the agent's peak RSS (VmHWM). Writes results.md, results.json and
time-to-ready.svg to --results.`,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if os.Getenv("CEPH_CONF") == "" {
				return fmt.Errorf("CEPH_CONF is not set: boot a cluster with `cowdisk dev cluster up --dir D` and source D/env")
			}
			var err error
			if cfg.Sizes, err = report.ParseSizes(sizes); err != nil {
				return err
			}
			if cfg.Bin == "" {
				if cfg.Bin, err = os.Executable(); err != nil {
					return fmt.Errorf("find the cowdisk binary: %w", err)
				}
			}
			// Absolute paths: the servers are children that may not share
			// the caller's idea of "here".
			for _, d := range []*string{&cfg.Bin, &cfg.WorkDir, &cfg.ResultsDir} {
				if *d, err = filepath.Abs(*d); err != nil {
					return err
				}
			}
			cfg.Log = slog.Default()
			res, err := bench.Run(cmd.Context(), cfg)
			if res != nil {
				_ = res.Markdown(cmd.OutOrStdout())
				fmt.Fprintf(cmd.OutOrStdout(), "\nresults in %s\n", cfg.ResultsDir)
			}
			return err
		},
	}
	f := c.Flags()
	f.StringVar(&sizes, "sizes", "256MiB,1GiB,4GiB", "image virtual sizes, comma-separated")
	f.IntVar(&cfg.Reps, "reps", 3, "repetitions of every path at sizes up to 1GiB")
	f.IntVar(&cfg.LargeReps, "large-reps", 0, "repetitions above 1GiB (default: min(2, --reps), to fit a full run in 20 minutes)")
	f.StringVar(&cfg.ResultsDir, "results", "bench-results", "directory for results.md, results.json and the SVG chart")
	f.StringVar(&cfg.WorkDir, "work", filepath.Join(os.TempDir(), "cowdisk-bench"), "scratch directory (generated images are kept here and reused)")
	f.StringVar(&cfg.Bin, "bin", "", "cowdisk binary to run the servers from (default: this one)")
	f.Float64Var(&cfg.DataFraction, "data", 0.4, "share of each image holding data")
	f.IntVar(&cfg.ClonesPerRep, "clones-per-rep", 8, "clones per rep for the floor and clone paths")
	f.IntVar(&cfg.Concurrency, "concurrency", 8, "concurrency of the clone throughput comparison")
	f.IntVar(&cfg.Throughput, "throughput-disks", 32, "disks in the throughput comparison")
	f.IntVar(&cfg.StormDisks, "storm", 32, "disks in each boot storm (all at once)")
	f.StringVar(&cfg.ImagesPool, "images-pool", "images", "pool of the image service's RBD store")
	f.StringVar(&cfg.ImagesChunkSize, "images-chunk-size", "", "RBD object size of the image service's store (default: the service's own)")
	f.StringVar(&cfg.VMsPool, "vms-pool", "vms", "pool for disks and bases")
	f.StringVar(&cfg.ObjectStore, "objectstore", "memstore", "the cluster's OSD object store, for the report header")
	return c
}
