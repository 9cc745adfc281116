package imagesvc

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gophercloud/gophercloud/v2/openstack/image/v2/images"

	"github.com/cowdisk/cowdisk/internal/imageclient"
	"github.com/cowdisk/cowdisk/internal/imageformat/imagetest"
	"github.com/cowdisk/cowdisk/internal/imagesvc/store/storetest"
	"github.com/cowdisk/cowdisk/internal/testcluster"
)

// withStaging turns glance-direct on with a staging dir of the test's own.
func withStaging(t testing.TB) func(*Config) {
	dir := t.TempDir()
	return func(c *Config) { c.Import.StagingDir = dir }
}

// send is one raw request; the body, if a file, goes with its length.
func send(s *Service, method, path, token, ctype string, body io.Reader) (int, string, error) {
	req, err := http.NewRequest(method, "http://"+s.Addr()+path, body)
	if err != nil {
		return 0, "", err
	}
	req.Header.Set("X-Auth-Token", token)
	req.Header.Set("Content-Type", ctype)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), nil
}

// glanceDirect stages path into image id, imports it and waits until the
// import has ended; it returns the final status and the staging time.
func glanceDirect(ctx context.Context, s *Service, token, id, path string) (string, time.Duration, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", 0, err
	}
	defer f.Close()
	start := time.Now()
	if code, body, err := send(s, "PUT", "/v2/images/"+id+"/stage", token, "application/octet-stream", f); err != nil || code != 204 {
		return "", 0, fmt.Errorf("stage: %d %s %v", code, body, err)
	}
	staged := time.Since(start)
	if code, body, err := send(s, "POST", "/v2/images/"+id+"/import", token, "application/json",
		strings.NewReader(`{"method":{"name":"glance-direct"}}`)); err != nil || code != 202 {
		return "", staged, fmt.Errorf("import: %d %s %v", code, body, err)
	}
	// Polls cost CPU the import needs (two cores): 50 ms apart, they add
	// at most 50 ms to a run of seconds.
	for deadline := time.Now().Add(10 * time.Minute); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		img, err := images.Get(ctx, client(s, token), id).Extract()
		if err != nil {
			return "", staged, err
		}
		if img.Status != "importing" {
			return string(img.Status), staged, nil
		}
	}
	return "", staged, fmt.Errorf("import of %s did not end", id)
}

// TestGlanceDirectRBD imports through the staging area into RBD; a qcow2
// staged as raw is refused and leaves the pool and the staging dir clean.
func TestGlanceDirectRBD(t *testing.T) {
	ctx := context.Background()
	stagingOpt := withStaging(t)
	var stagingDir string
	s, c, pool, _ := startRBD(t, func(cfg *Config) { stagingOpt(cfg); stagingDir = cfg.Import.StagingDir })
	member := client(s, "member")
	dir := t.TempDir()
	raw, qcow := filepath.Join(dir, "d.raw"), filepath.Join(dir, "d.qcow2")
	if err := os.WriteFile(raw, storetest.Data(9<<20, 3), 0o600); err != nil {
		t.Fatal(err)
	}
	imagetest.Run(t, "convert", "-f", "raw", "-O", "qcow2", raw, qcow)
	for _, tc := range []struct {
		file, status string
	}{{raw, "active"}, {qcow, ""}} {
		img, err := images.Create(ctx, member, images.CreateOpts{Name: "gd", DiskFormat: "raw", ContainerFormat: "bare"}).Extract()
		if err != nil {
			t.Fatal(err)
		}
		got, _, err := glanceDirect(ctx, s, "member", img.ID, tc.file)
		if got != tc.status || (tc.status == "" && !strings.Contains(fmt.Sprint(err), "format mismatch")) {
			t.Fatalf("%s: status %q err %v", tc.file, got, err)
		}
		if err := images.Delete(ctx, member, img.ID).ExtractErr(); err != nil {
			t.Fatal(err)
		}
	}
	if ents, _ := os.ReadDir(stagingDir); len(ents) != 0 {
		t.Fatalf("staging dir not empty: %v", ents)
	}
	testcluster.AssertPoolClean(t, c, pool)
}

// benchFile writes the benchmarks' raw image (1 GiB unless
// COWDISK_BENCH_SIZE says otherwise: about 40% data in runs, the rest zeros).
func benchFile(b *testing.B) (string, int64) {
	size := int64(1 << 30)
	if v := os.Getenv("COWDISK_BENCH_SIZE"); v != "" {
		fmt.Sscan(v, &size)
	}
	path := filepath.Join(b.TempDir(), "bench.raw")
	if err := os.WriteFile(path, storetest.Data(int(size), 42), 0o600); err != nil {
		b.Fatal(err)
	}
	return path, size
}

func benchClient(b *testing.B, s *Service) imageclient.Client {
	cl, err := imageclient.New("http://"+s.Addr(), "member", imageclient.Options{})
	if err != nil {
		b.Fatal(err)
	}
	return cl
}

// benchImage creates a raw image, times fill(id) and deletes the image.
func benchImage(b *testing.B, cl imageclient.Client, fill func(id string) error) time.Duration {
	ctx := context.Background()
	img, err := cl.Create(ctx, imageclient.CreateOptions{Name: "bench", DiskFormat: "raw", ContainerFormat: "bare"})
	if err != nil {
		b.Fatal(err)
	}
	start := time.Now()
	err = fill(img.ID)
	took := time.Since(start)
	if err != nil {
		b.Fatal(err)
	}
	if err := cl.Delete(ctx, img.ID); err != nil {
		b.Fatal(err)
	}
	return took
}

func uploadFile(ctx context.Context, cl imageclient.Client, id, path string, size int64) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	return cl.Upload(ctx, id, f, size)
}

// BenchmarkGlanceDirectVsUpload imports one raw file (1 GiB by default,
// the same data as BenchmarkUploadVsRBDImport) with glance-direct (stage,
// import, wait for active) and uploads it directly into RBD, side by side
// in one run, and reports their ratio:
//
//	go test -tags pacific -run XXX -bench GlanceDirectVsUpload -benchtime 1x ./internal/imagesvc/
func BenchmarkGlanceDirectVsUpload(b *testing.B) {
	path, size := benchFile(b)
	s, _, _, _ := startRBD(b, withStaging(b))
	cl := benchClient(b, s)
	ctx := context.Background()
	var direct, upload, staging time.Duration
	b.ResetTimer()
	for range b.N {
		direct += benchImage(b, cl, func(id string) error {
			st, staged, err := glanceDirect(ctx, s, "member", id, path)
			staging += staged
			if err == nil && st != "active" {
				err = fmt.Errorf("import ended %s", st)
			}
			return err
		})
		upload += benchImage(b, cl, func(id string) error { return uploadFile(ctx, cl, id, path, size) })
	}
	mib := float64(size) * float64(b.N) / (1 << 20)
	b.ReportMetric(mib/direct.Seconds(), "glance-direct-MiB/s")
	b.ReportMetric(mib/upload.Seconds(), "upload-MiB/s")
	b.ReportMetric(direct.Seconds()/upload.Seconds(), "glance-direct/upload")
	b.ReportMetric(staging.Seconds()/float64(b.N), "stage-s")
}
