package convert

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/cowdisk/cowdisk/internal/imageformat"
	"github.com/cowdisk/cowdisk/internal/imageformat/imagetest"
)

// BenchmarkConvert1GiB converts one qcow2 of 1 GiB virtual size (about 40%
// data in runs, as on a real disk) to a raw file twice per iteration, with
// this package and with `qemu-img convert -O raw`, and reports both rates
// (virtual bytes per second) and their ratio from the same run:
//
//	go test -run '^$' -bench Convert1GiB -benchtime 3x ./internal/convert
//
// COWDISK_BENCH_SIZE (bytes) overrides the size; sub-benchmarks cover plain,
// zlib- and zstd-compressed qcow2.
func BenchmarkConvert1GiB(b *testing.B) {
	size := int64(1 << 30)
	if s, err := strconv.ParseInt(os.Getenv("COWDISK_BENCH_SIZE"), 10, 64); err == nil {
		size = s
	}
	dir := b.TempDir()
	src := filepath.Join(dir, "src.raw")
	imagetest.WriteSource(b, src, size, 40, 1)
	for _, v := range []imagetest.Variant{
		{Name: "qcow2", Format: "qcow2"},
		{Name: "qcow2-zlib", Format: "qcow2", Options: []string{"-c"}},
		{Name: "qcow2-zstd", Format: "qcow2", Options: []string{"-c", "-o", "compression_type=zstd"}},
	} {
		img := imagetest.Make(b, dir, src, v)
		b.Run(v.Name, func(b *testing.B) { benchConvert(b, img, size) })
	}
}

func benchConvert(b *testing.B, img string, size int64) {
	info, err := imageformat.InspectFile(img, imageformat.Limits{})
	if err != nil {
		b.Fatal(err)
	}
	out := filepath.Join(b.TempDir(), "out.raw")
	var goTime, qemuTime time.Duration
	for b.Loop() {
		goTime += timed(b, out, func() {
			f, err := os.Create(out)
			if err != nil {
				b.Fatal(err)
			}
			defer f.Close()
			if _, err := ToRaw(context.Background(), img, info, f, Options{}); err != nil {
				b.Fatal(err)
			}
		})
		qemuTime += timed(b, out, func() { imagetest.ToRaw(b, img, "qcow2", out) })
	}
	mbps := func(d time.Duration) float64 { return float64(size) * float64(b.N) / d.Seconds() / 1e6 }
	b.ReportMetric(mbps(goTime), "go-MB/s")
	b.ReportMetric(mbps(qemuTime), "qemu-img-MB/s")
	b.ReportMetric(qemuTime.Seconds()/goTime.Seconds(), "go/qemu-img-speed")
}

// timed runs fn with the output removed first and returns how long it took.
func timed(b *testing.B, out string, fn func()) time.Duration {
	b.Helper()
	if err := os.Remove(out); err != nil && !os.IsNotExist(err) {
		b.Fatal(err)
	}
	start := time.Now()
	fn()
	return time.Since(start)
}
