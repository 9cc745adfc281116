package provisioner_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/cowdisk/cowdisk/internal/agent"
	"github.com/cowdisk/cowdisk/internal/bench/baseline"
	"github.com/cowdisk/cowdisk/internal/bench/imagegen"
	"github.com/cowdisk/cowdisk/internal/bench/promtext"
	"github.com/cowdisk/cowdisk/internal/bench/stats"
	"github.com/cowdisk/cowdisk/internal/ceph"
	"github.com/cowdisk/cowdisk/internal/provisioner"
)

// BenchmarkProvisioning measures, in one run against the dev cluster:
//
//   - clone path: POST /v1/disks through the agent for a raw image in the
//     RBD store, against a bare ceph.Clone of the same snapshot (p50 of 30);
//   - cold fallback: the first disk of a qcow2 image from a file store
//     through the agent, against Nova's naive pipeline for the same image
//     (HTTP download to a file, qemu-img convert -O raw, rbd import).
//
// Run: go test -tags pacific -run '^$' -bench Provisioning -benchtime 1x ./internal/provisioner
// (COWDISK_BENCH_IMAGE_MIB sets the qcow2 image's virtual size; default 1024, 40% data).
func BenchmarkProvisioning(b *testing.B) {
	e := newClusterEnv(b)
	ctx := context.Background()
	// One image service over the RBD store, as a Ceph-backed Glance: the raw
	// image is cloned, the qcow2 one cannot be and is fetched over HTTP.
	svc := e.rbdService(b)
	rawID := svc.upload(b, "raw", make([]byte, 64*mib))
	qcowID := svc.uploadFile(b, "qcow2", benchImage(b).QCOW2)

	srv := httptest.NewServer(stopAtEnd(b, agent.New(e.backend(b, svc.source(), nil), nil)))
	defer srv.Close()
	client := &agent.Client{Base: srv.URL}
	const n = 30
	for b.Loop() {
		var viaAgent, bare []float64
		for i := range n {
			start := time.Now()
			if _, _, err := client.CreateDisk(ctx, agent.CreateRequest{InstanceID: fmt.Sprintf("bench%d", i), ImageID: rawID}); err != nil {
				b.Fatal(err)
			}
			viaAgent = append(viaAgent, ms(time.Since(start)))
			start = time.Now()
			if err := e.c.Clone(ctx, ceph.SnapRef{Pool: e.imagesPool, Image: rawID, Snap: "snap"}, e.vmsPool, fmt.Sprintf("bare%d_disk", i), ceph.ImageOptions{}); err != nil {
				b.Fatal(err)
			}
			bare = append(bare, ms(time.Since(start)))
		}
		start := time.Now()
		d, _, err := client.CreateDisk(ctx, agent.CreateRequest{InstanceID: "cold", ImageID: qcowID})
		if err != nil || d.Method != "base-clone" {
			b.Fatalf("cold fallback: %+v %v", d, err)
		}
		cold := time.Since(start)
		start = time.Now()
		if _, _, err := client.CreateDisk(ctx, agent.CreateRequest{InstanceID: "warm", ImageID: qcowID}); err != nil {
			b.Fatal(err)
		}
		warm := time.Since(start)
		naive := naivePipeline(b, e, svc, qcowID)

		clone, raw := stats.Summarize(viaAgent).Median, stats.Summarize(bare).Median
		b.ReportMetric(clone, "clone-agent-p50-ms")
		b.ReportMetric(raw, "clone-bare-p50-ms")
		b.ReportMetric(clone/raw, "clone-ratio")
		reportSteps(b, srv.URL, "clone")
		reportThroughput(b, e, client, rawID)
		b.ReportMetric(cold.Seconds(), "fallback-cold-s")
		b.ReportMetric(ms(warm), "fallback-warm-ms")
		b.ReportMetric(naive.Total.Seconds(), "naive-s")
		b.ReportMetric(naive.Download.Seconds(), "naive-download-s")
		b.ReportMetric(naive.Convert.Seconds(), "naive-convert-s")
		b.ReportMetric(naive.Import.Seconds(), "naive-import-s")
		b.ReportMetric(cold.Seconds()/naive.Total.Seconds(), "fallback-ratio")
		for i := range n {
			_ = e.c.Remove(ctx, e.vmsPool, fmt.Sprintf("bare%d_disk", i), ceph.RemoveOptions{Retries: -1})
		}
	}
}

// reportSteps reports the mean of each Create step of method's disks so
// far, from the agent's /metrics.
func reportSteps(b *testing.B, url, method string) {
	for _, step := range provisioner.Steps {
		sel := fmt.Sprintf(`{method=%q,step=%q}`, method, step)
		got, err := promtext.Scrape(context.Background(), url+"/metrics", agent.MetricStep+"_sum"+sel, agent.MetricStep+"_count"+sel)
		if err != nil {
			b.Fatal(err)
		}
		if n := got[agent.MetricStep+"_count"+sel]; n > 0 {
			b.ReportMetric(1000*got[agent.MetricStep+"_sum"+sel]/n, "step-"+string(step)+"-ms")
		}
	}
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// benchImage is a generated qcow2 (kept between runs in the temp dir).
func benchImage(b *testing.B) imagegen.Files {
	size := int64(1024)
	if v, err := strconv.Atoi(os.Getenv("COWDISK_BENCH_IMAGE_MIB")); err == nil && v > 0 {
		size = int64(v)
	}
	f, err := imagegen.Ensure(context.Background(), filepath.Join(os.TempDir(), "cowdisk-bench-images"),
		imagegen.Spec{Size: size * mib, DataFraction: 0.4, Seed: 1})
	if err != nil {
		b.Fatal(err)
	}
	return f
}

// naivePipeline runs the baseline for the image into the vms pool and
// removes what it made.
func naivePipeline(b *testing.B, e *clusterEnv, svc *imageService, id string) baseline.Timing {
	cfg := ceph.ConfigFromEnv()
	tools := baseline.DefaultTools(baseline.Ceph{Conf: os.Getenv("CEPH_CONF"), Keyring: cfg.Keyring, User: cfg.User})
	tm, err := tools.Naive(context.Background(), baseline.Download{URL: svc.srv.URL + "/v2/images/" + id + "/file", Client: http.DefaultClient},
		"qcow2", b.TempDir(), e.vmsPool, "naive_disk")
	if err != nil {
		b.Fatal(err)
	}
	if err := e.c.Remove(context.Background(), e.vmsPool, "naive_disk", ceph.RemoveOptions{Retries: -1}); err != nil {
		b.Fatal(err)
	}
	return tm
}
