package ceph_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/cowdisk/cowdisk/internal/bench/imagegen"
	"github.com/cowdisk/cowdisk/internal/bench/stats"
	"github.com/cowdisk/cowdisk/internal/ceph"
	"github.com/cowdisk/cowdisk/internal/testcluster"
)

// These benchmarks measure, in one run, what the closing note of issue 2
// asks for. Run them once each:
//
//	go test -tags pacific -run '^$' -bench . -benchtime 1x ./internal/ceph
//
// They report numbers; they assert nothing about timing.

const benchClones = 50

// benchParent imports 64 MiB of random data as name in the bench's images
// pool and snapshots it (removed at the end); it returns the connection,
// the snapshot and the vms pool.
func benchParent(b *testing.B, name string) (*ceph.Cluster, ceph.SnapRef, string) {
	c := testcluster.Connect(b)
	images, vms := testcluster.Pools(b, "cephbench")
	ctx := context.Background()
	if _, err := c.Import(ctx, bytes.NewReader(randomData(b, 64*mib)), 64*mib, images, name, ceph.ImportOptions{}); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = c.Remove(ctx, images, name, ceph.RemoveOptions{Retries: -1}) })
	if err := c.CreateSnapshot(ctx, images, name, "snap"); err != nil {
		b.Fatal(err)
	}
	return c, ceph.SnapRef{Pool: images, Image: name, Snap: "snap"}, vms
}

// BenchmarkCloneLatency clones one snapshot benchClones times, one after
// the other, and reports the p50 and p99 of ceph.Clone.
func BenchmarkCloneLatency(b *testing.B) {
	c, parent, vms := benchParent(b, "base")
	ctx := context.Background()
	var ms []float64
	for b.Loop() {
		for i := range benchClones {
			name := fmt.Sprintf("vm%03d_disk", i)
			start := time.Now()
			if err := c.Clone(ctx, parent, vms, name, ceph.ImageOptions{}); err != nil {
				b.Fatal(err)
			}
			ms = append(ms, float64(time.Since(start).Microseconds())/1000)
		}
		b.StopTimer()
		for i := range benchClones {
			if err := c.Remove(ctx, vms, fmt.Sprintf("vm%03d_disk", i), ceph.RemoveOptions{Retries: -1}); err != nil {
				b.Fatal(err)
			}
		}
		b.StartTimer()
	}
	s := stats.Summarize(ms)
	b.ReportMetric(s.P50, "p50-ms")
	b.ReportMetric(s.P99, "p99-ms")
	b.ReportMetric(0, "ns/op") // the loop time includes nothing useful
}

// BenchmarkImportVsRBDImport imports the same 1 GiB sparse raw file (40%
// data in runs of 1-8 MiB) with ceph.Import (with md5+sha512, as the image
// service needs, and without, as the provisioner needs) and with `rbd
// import`, and reports the throughputs (virtual size / wall time) and the
// ratios to rbd import.
func BenchmarkImportVsRBDImport(b *testing.B) {
	c := testcluster.Connect(b)
	images, _ := testcluster.Pools(b, "cephbench")
	ctx := context.Background()
	path := filepath.Join(b.TempDir(), "img.raw")
	const size = 1 << 30
	if err := (imagegen.Spec{Size: size, DataFraction: 0.4, Seed: 1}).WriteRaw(ctx, path); err != nil {
		b.Fatal(err)
	}
	warmPageCache(b, path) // both importers then read from memory alike
	cfg := c.Config()
	var hashed, ours, theirs time.Duration
	for b.Loop() {
		hashed += timeIt(b, func() error { return importFile(ctx, c, path, images, "hashed", false) })
		ours += timeIt(b, func() error { return importFile(ctx, c, path, images, "ours", true) })
		theirs += timeIt(b, func() error {
			out, err := exec.Command("rbd", "--conf", cfg.ConfPath, "--keyring", cfg.Keyring, "--id", cfg.User,
				"import", "--no-progress", "--image-format", "2", "--image-feature", "layering",
				path, images+"/theirs").CombinedOutput()
			if err != nil {
				return fmt.Errorf("rbd import: %v: %s", err, out)
			}
			return nil
		})
		b.StopTimer()
		for _, n := range []string{"hashed", "ours", "theirs"} {
			if err := c.Remove(ctx, images, n, ceph.RemoveOptions{Retries: -1}); err != nil {
				b.Fatal(err)
			}
		}
		b.StartTimer()
	}
	mibps := func(d time.Duration) float64 { return float64(size*b.N) / mib / d.Seconds() }
	b.ReportMetric(mibps(hashed), "cowdisk-hashed-MiB/s")
	b.ReportMetric(mibps(ours), "cowdisk-nohash-MiB/s")
	b.ReportMetric(mibps(theirs), "rbd-import-MiB/s")
	b.ReportMetric(theirs.Seconds()/hashed.Seconds(), "x-rbd-hashed")
	b.ReportMetric(theirs.Seconds()/ours.Seconds(), "x-rbd-nohash")
	b.ReportMetric(0, "ns/op")
}

func importFile(ctx context.Context, c *ceph.Cluster, path, pool, name string, skipHashes bool) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return err
	}
	_, err = c.Import(ctx, f, st.Size(), pool, name, ceph.ImportOptions{SkipHashes: skipHashes})
	return err
}

func timeIt(b *testing.B, f func() error) time.Duration {
	start := time.Now()
	if err := f(); err != nil {
		b.Fatal(err)
	}
	return time.Since(start)
}

func warmPageCache(b *testing.B, path string) {
	data, err := os.ReadFile(path)
	if err != nil {
		b.Fatal(err)
	}
	_ = data
}
