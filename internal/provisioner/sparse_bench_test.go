package provisioner_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/cowdisk/cowdisk/internal/ceph"
	"github.com/cowdisk/cowdisk/internal/imageclient"
	"github.com/cowdisk/cowdisk/internal/provisioner"
)

// Images the helper service serves: each format with a chunk list
// (sparse) and without one (whole-stream download).
const (
	benchRawSparse  = "a5ced000-0000-4000-8000-0000000000a1"
	benchRawWhole   = "a5ced000-0000-4000-8000-0000000000a2"
	benchQcowSparse = "a5ced000-0000-4000-8000-0000000000a3"
	benchQcowWhole  = "a5ced000-0000-4000-8000-0000000000a4"
	chunkSvcDirEnv  = "COWDISK_CHUNKSVC_DIR"
)

// TestHelperChunkService is not a test: BenchmarkSparseFallback runs the
// test binary again with this test only, so the image service's CPU is not
// counted as the node's. It serves the images in $COWDISK_CHUNKSVC_DIR
// until killed, and writes its URL there. Without that variable it returns
// at once.
func TestHelperChunkService(t *testing.T) {
	dir := os.Getenv(chunkSvcDirEnv)
	if dir == "" {
		return
	}
	s := newChunkService(t)
	raw, qcow := readFile(t, filepath.Join(dir, "img.raw")), readFile(t, filepath.Join(dir, "img.qcow2"))
	noList := func(id, format string, data []byte) func(*servedImage) {
		return func(si *servedImage) { si.record = record(id, format, data, nil) }
	}
	s.serve(benchRawSparse, "raw", raw, nil)
	s.serve(benchRawWhole, "raw", raw, noList(benchRawWhole, "raw", raw))
	s.serve(benchQcowSparse, "qcow2", qcow, nil)
	s.serve(benchQcowWhole, "qcow2", qcow, noList(benchQcowWhole, "qcow2", qcow))
	if err := os.WriteFile(filepath.Join(dir, "url"), []byte(s.srv.URL), 0o600); err != nil {
		t.Fatal(err)
	}
	select {}
}

func readFile(t testing.TB, path string) []byte {
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// BenchmarkSparseFallback measures, in one run, the cold fetch of one
// 40%-data image (COWDISK_BENCH_SPARSE_MIB, default 256) into RBD: raw by
// the sparse transfer, by the whole-stream download and by `rbd import` of
// the local file; qcow2 by the sparse transfer (ReaderAt, no staging file)
// and by the whole-stream download (staging file). Medians of
// COWDISK_BENCH_REPS (default 3), interleaved; CPU is this process's (the node: agent code and librbd).
//
// Run: go test -tags pacific -run '^$' -bench SparseFallback -benchtime 1x ./internal/provisioner
func BenchmarkSparseFallback(b *testing.B) {
	e := newClusterEnv(b)
	mibs := 256
	if v, err := strconv.Atoi(os.Getenv("COWDISK_BENCH_SPARSE_MIB")); err == nil && v > 0 {
		mibs = v
	}
	reps := 3
	if v, err := strconv.Atoi(os.Getenv("COWDISK_BENCH_REPS")); err == nil && v > 0 {
		reps = v
	}
	dir := b.TempDir()
	rawPath := filepath.Join(dir, "img.raw")
	writeSparseFile(b, rawPath, mibs*mib) // never whole in this process: its peak RSS is the node's
	runCmd(b, "qemu-img", "convert", "-q", "-f", "raw", "-O", "qcow2", rawPath, filepath.Join(dir, "img.qcow2"))
	url := startChunkService(b, dir)
	c, err := imageclient.New(url, "", imageclient.Options{})
	if err != nil {
		b.Fatal(err)
	}
	be := e.backend(b, provisioner.ClientSource{Client: c}, nil)
	ctx := context.Background()
	type result struct{ wall, cpu, hwm []float64 }
	res := map[string]*result{}
	paths := []string{"raw sparse", "raw whole-stream", "rbd import", "qcow2 sparse", "qcow2 staging"}
	ids := map[string]string{"raw sparse": benchRawSparse, "raw whole-stream": benchRawWhole,
		"qcow2 sparse": benchQcowSparse, "qcow2 staging": benchQcowWhole}
	for b.Loop() {
		for rep := range reps {
			for _, p := range paths {
				wall, cpu := time.Duration(0), 0.0
				resetPeakRSS(b)
				if p == "rbd import" {
					wall, cpu = rbdImport(b, e, rawPath, fmt.Sprintf("imp%d", rep))
				} else {
					wall, cpu = coldCreate(b, ctx, be, ids[p], fmt.Sprintf("bench-%d", rep))
				}
				if res[p] == nil {
					res[p] = &result{}
				}
				res[p].wall = append(res[p].wall, wall.Seconds())
				res[p].cpu = append(res[p].cpu, cpu)
				res[p].hwm = append(res[p].hwm, peakRSSMiB(b))
			}
		}
	}
	gib := float64(mibs) / 1024
	for _, p := range paths {
		w, c := median(res[p].wall), median(res[p].cpu)
		b.Logf("%-17s median %5.2fs min %5.2fs  cpu %5.2fs = %5.2f s/GiB  peak RSS %4.0f MiB", p, w, slices.Min(res[p].wall),
			c, c/gib, slices.Max(res[p].hwm))
	}
	// Medians and minimums: on a shared machine the minimum is the run
	// least disturbed by others.
	for _, r := range [][2]string{{"raw sparse", "rbd import"}, {"raw sparse", "raw whole-stream"}, {"qcow2 sparse", "qcow2 staging"}} {
		a, c := res[r[0]].wall, res[r[1]].wall
		b.Logf("%s / %s: %.2fx (medians), %.2fx (minimums)", r[0], r[1], median(a)/median(c), slices.Min(a)/slices.Min(c))
	}
}

// coldCreate makes a disk of id on a node with no base of it, then deletes
// disk and base; it returns the wall time and the CPU seconds it took.
func coldCreate(b *testing.B, ctx context.Context, be *provisioner.RBD, id, inst string) (time.Duration, float64) {
	c0, t0 := cpuSelf(), time.Now()
	if _, err := be.Create(ctx, provisioner.Request{InstanceID: inst, ImageID: id}); err != nil {
		b.Fatal(err)
	}
	wall, cpu := time.Since(t0), cpuSelf()-c0
	if err := be.DeleteInstance(ctx, inst); err != nil {
		b.Fatal(err)
	}
	if _, err := be.Prune(ctx); err != nil {
		b.Fatal(err)
	}
	return wall, cpu
}

func rbdImport(b *testing.B, e *clusterEnv, path, name string) (time.Duration, float64) {
	cmd := exec.Command("rbd", "import", "--no-progress", "--dest-pool", e.vmsPool, path, name)
	t0 := time.Now()
	if out, err := cmd.CombinedOutput(); err != nil {
		b.Fatalf("rbd import: %v: %s", err, out)
	}
	wall := time.Since(t0)
	cpu := (cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()).Seconds()
	if err := e.c.Remove(context.Background(), e.vmsPool, name, ceph.RemoveOptions{}); err != nil {
		b.Fatal(err)
	}
	return wall, cpu
}

func cpuSelf() float64 {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()).Seconds()
}

func median(v []float64) float64 {
	s := slices.Clone(v)
	slices.Sort(s)
	return s[len(s)/2]
}

func runCmd(b *testing.B, name string, args ...string) {
	if out, err := exec.Command(name, args...).CombinedOutput(); err != nil {
		b.Fatalf("%s: %v: %s", name, err, out)
	}
}

// startChunkService runs TestHelperChunkService in a child process over
// the images in dir, stopped (by its pid) when the benchmark ends.
func startChunkService(b *testing.B, dir string) string {
	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperChunkService$", "-test.count=1", "-test.timeout=0")
	cmd.Env = append(os.Environ(), chunkSvcDirEnv+"="+dir)
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	for range 600 {
		if u, err := os.ReadFile(filepath.Join(dir, "url")); err == nil {
			return string(u)
		}
		time.Sleep(100 * time.Millisecond)
	}
	b.Fatal("the helper image service did not start within a minute")
	return ""
}

func writeSparseFile(b *testing.B, path string, size int) {
	f, err := os.Create(path)
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	if err := writeSparseData(f, size); err != nil {
		b.Fatal(err)
	}
}

// resetPeakRSS returns freed memory to the system and resets VmHWM to the
// current RSS (Linux: "5" to clear_refs).
func resetPeakRSS(b *testing.B) {
	debug.FreeOSMemory()
	if err := os.WriteFile("/proc/self/clear_refs", []byte("5"), 0); err != nil {
		b.Fatal(err)
	}
}

// peakRSSMiB is VmHWM in MiB.
func peakRSSMiB(b testing.TB) float64 {
	st, err := os.ReadFile("/proc/self/status")
	if err != nil {
		b.Fatal(err)
	}
	for _, l := range strings.Split(string(st), "\n") {
		if v, ok := strings.CutPrefix(l, "VmHWM:"); ok {
			kb, err := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 64)
			if err != nil {
				b.Fatal(err)
			}
			return kb / 1024
		}
	}
	b.Fatal("no VmHWM in /proc/self/status")
	return 0
}
