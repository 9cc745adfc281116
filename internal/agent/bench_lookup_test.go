package agent

import (
	"bytes"
	"context"
	"testing"
	"time"

	"github.com/cowdisk/cowdisk/internal/bench/stats"
	"github.com/cowdisk/cowdisk/internal/imageclient"
	"github.com/cowdisk/cowdisk/internal/imagesvc/auth"
	"github.com/cowdisk/cowdisk/internal/imagesvc/imagesvctest"
)

// BenchmarkCallerLookup measures the image lookup of a create made with a
// caller token, against cowdisk's image service in-process, three ways,
// interleaved: the caller's and the service's reads one after the other
// (the lookup before issue 12), at once (a create of an image not cached),
// and with the service's record cached (the creates after).
//
//	go test -tags pacific -run '^$' -bench CallerLookup -benchtime 1x ./internal/agent
func BenchmarkCallerLookup(b *testing.B) {
	defer func(w time.Duration) { racyWindow = w }(racyWindow)
	racyWindow = 0 // the image was just uploaded
	tokens, err := auth.NewTokens([]auth.TokenEntry{{Token: "p1", Project: "p1", Roles: []string{auth.Member}},
		{Token: "svc", Project: "service", Roles: []string{auth.Service}}})
	if err != nil {
		b.Fatal(err)
	}
	url := imagesvctest.Serve(b, tokens)
	ctx := context.Background()
	p1, err := imageclient.New(url, "p1", imageclient.Options{})
	if err != nil {
		b.Fatal(err)
	}
	img, err := p1.Create(ctx, imageclient.CreateOptions{Name: "lookup", DiskFormat: "raw", ContainerFormat: "bare"})
	if err == nil {
		err = p1.Upload(ctx, img.ID, bytes.NewReader(make([]byte, 4096)), 4096)
	}
	if err != nil {
		b.Fatal(err)
	}
	svc, err := imageclient.New(url, "svc", imageclient.Options{})
	if err != nil {
		b.Fatal(err)
	}
	cached, err := NewCallerSource(svc, imageclient.Options{})
	if err != nil {
		b.Fatal(err)
	}
	uncached := cached
	uncached.records = nil
	c := caller{p: auth.Principal{Project: "p1"}, token: "p1"}
	cctx := withCaller(ctx, c)
	ways := []struct {
		name string
		read func() error
	}{
		{"sequential", func() error {
			if _, err := cached.callerRead(ctx, c, img.ID); err != nil {
				return err
			}
			_, err := cached.serviceRead(ctx, img.ID)
			return err
		}},
		{"parallel", func() error { _, err := uncached.Image(cctx, img.ID); return err }},
		{"cached", func() error { _, err := cached.Image(cctx, img.ID); return err }},
	}
	const n = 200
	ms := make([][]float64, len(ways))
	for b.Loop() {
		for range n {
			for i, w := range ways {
				start := time.Now()
				if err := w.read(); err != nil {
					b.Fatal(err)
				}
				ms[i] = append(ms[i], float64(time.Since(start).Microseconds())/1000)
			}
		}
	}
	seq := stats.Summarize(ms[0]).Median
	for i, w := range ways {
		p50 := stats.Summarize(ms[i]).Median
		b.ReportMetric(p50, w.name+"-p50-ms")
		b.ReportMetric(p50/seq, w.name+"/sequential")
	}
	b.ReportMetric(0, "ns/op")
}
