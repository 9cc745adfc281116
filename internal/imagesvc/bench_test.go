package imagesvc

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"testing"
	"time"

	"github.com/cowdisk/cowdisk/internal/ceph"
	"github.com/cowdisk/cowdisk/internal/imagesvc/store/rbdstore"
)

// BenchmarkUploadVsRBDImport uploads one raw image (1 GiB by default, ~40%
// data in runs of 64 KiB..1 MiB, the rest zeros) through the API into the
// RBD store, then imports the same file with `rbd import` (the baseline),
// in one run against the same cluster, and reports both rates and their
// ratio. For locating the cost it also times ceph.Import of the file with
// and without hashing (the store's data path without HTTP). Run it with -benchtime 1x:
//
//	go test -tags pacific -run XXX -bench UploadVsRBDImport -benchtime 1x ./internal/imagesvc/
//
// COWDISK_BENCH_SIZE (bytes) changes the size.
func BenchmarkUploadVsRBDImport(b *testing.B) {
	path, size := benchFile(b)
	s, c, pool, _ := startRBD(b)
	cl := benchClient(b, s)
	ctx := context.Background()
	var apiTime, rbdTime time.Duration
	importTime := map[bool]time.Duration{}
	b.ResetTimer()
	for i := range b.N {
		apiTime += benchImage(b, cl, func(id string) error { return uploadFile(ctx, cl, id, path, size) })

		// The store's data path without HTTP, with and without the hashes
		// the API must compute (Glance's checksum and os_hash_value).
		for _, skip := range []bool{false, true} {
			f, err := os.Open(path)
			if err != nil {
				b.Fatal(err)
			}
			start := time.Now()
			_, err = c.Import(ctx, f, size, pool, "bench-import", ceph.ImportOptions{
				ImageOptions: ceph.ImageOptions{ObjectSizeOrder: 23}, ChunkSize: rbdstore.DefaultWriteSize,
				Workers: rbdstore.DefaultWorkers, SkipHashes: skip})
			importTime[skip] += time.Since(start)
			f.Close()
			if err != nil {
				b.Fatal(err)
			}
			if err := c.Remove(ctx, pool, "bench-import", ceph.RemoveOptions{Retries: -1}); err != nil {
				b.Fatal(err)
			}
		}

		name := fmt.Sprintf("bench-rbd-import-%d", i)
		start := time.Now()
		out, err := exec.Command("rbd", "import", "--dest-pool", pool, "--object-size", "8M",
			"--image-feature", "layering", path, name).CombinedOutput()
		rbdTime += time.Since(start)
		if err != nil {
			b.Fatalf("rbd import: %v: %s", err, out)
		}
		if err := c.Remove(ctx, pool, name, ceph.RemoveOptions{Retries: -1}); err != nil {
			b.Fatal(err)
		}
	}
	mib := float64(size) * float64(b.N) / (1 << 20)
	b.ReportMetric(mib/apiTime.Seconds(), "api-MiB/s")
	b.ReportMetric(mib/rbdTime.Seconds(), "rbd-import-MiB/s")
	b.ReportMetric(mib/importTime[false].Seconds(), "ceph.Import-MiB/s")
	b.ReportMetric(mib/importTime[true].Seconds(), "ceph.Import-nohash-MiB/s")
	b.ReportMetric(rbdTime.Seconds()/apiTime.Seconds(), "api/rbd-import")
}

// BenchmarkUploadRBD only uploads the bench image into RBD, so that a CPU
// profile shows the upload's own split (md5, sha512, chunk SHA-256,
// HTTP, librbd; the in-process client and the image's generation too):
//
//	go test -tags pacific -run XXX -bench 'UploadRBD$' -benchtime 3x -cpuprofile cpu.out ./internal/imagesvc/
func BenchmarkUploadRBD(b *testing.B) {
	path, size := benchFile(b)
	s, _, _, _ := startRBD(b)
	cl := benchClient(b, s)
	ctx := context.Background()
	var took time.Duration
	b.ResetTimer()
	for range b.N {
		took += benchImage(b, cl, func(id string) error { return uploadFile(ctx, cl, id, path, size) })
	}
	b.ReportMetric(float64(size)*float64(b.N)/(1<<20)/took.Seconds(), "api-MiB/s")
}
