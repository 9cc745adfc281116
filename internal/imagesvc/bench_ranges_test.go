package imagesvc

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	chunks "github.com/cowdisk/cowdisk/internal/chunklist"
	"github.com/cowdisk/cowdisk/internal/imageclient"
)

// BenchmarkRangesVsDownload reads the bench image out of the RBD store
// twice: whole (GET /file, what any Glance client does) and as a node's
// sparse transfer does (the chunk list with its data spans, then a Range
// GET of the span of every chunk that is not all zeros, 4 at a time), and
// reports their rates (per byte
// of the image) and how much of the image the ranges carried:
//
//	go test -tags pacific -run XXX -bench RangesVsDownload -benchtime 3x ./internal/imagesvc/
func BenchmarkRangesVsDownload(b *testing.B) {
	path, size := benchFile(b)
	s, _, _, _ := startRBD(b)
	cl := benchClient(b, s)
	ctx := context.Background()
	img, err := cl.Create(ctx, imageclient.CreateOptions{Name: "bench", DiskFormat: "raw", ContainerFormat: "bare"})
	if err == nil {
		err = uploadFile(ctx, cl, img.ID, path, size)
	}
	if err != nil {
		b.Fatalf("upload: %v", err)
	}
	var whole, ranged time.Duration
	var moved int64
	b.ResetTimer()
	for range b.N {
		start := time.Now()
		if n, err := fetch(s, "/v2/images/"+img.ID+"/file", ""); err != nil || n != size {
			b.Fatalf("download: %d bytes, %v", n, err)
		}
		whole += time.Since(start)
		start = time.Now()
		n, err := fetchChunks(s, img.ID)
		if err != nil {
			b.Fatal(err)
		}
		ranged += time.Since(start)
		moved += n
	}
	mib := float64(size) * float64(b.N) / (1 << 20)
	b.ReportMetric(mib/whole.Seconds(), "download-MiB/s")
	b.ReportMetric(mib/ranged.Seconds(), "ranges-MiB/s")
	b.ReportMetric(float64(moved)/float64(size)/float64(b.N), "ranged-fraction")
}

// fetch GETs path (with a Range header unless rng is empty) and counts
// the body's bytes.
func fetch(s *Service, path, rng string) (int64, error) {
	req, _ := http.NewRequest("GET", "http://"+s.Addr()+path, nil)
	req.Header.Set("X-Auth-Token", "member")
	if rng != "" {
		req.Header.Set("Range", rng)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	if want := map[bool]int{true: 200, false: 206}[rng == ""]; resp.StatusCode != want {
		return 0, fmt.Errorf("GET %s %s: %s", path, rng, resp.Status)
	}
	return io.Copy(io.Discard, resp.Body)
}

// fetchChunks reads image id's chunk list with its data spans and fetches
// the span of every non-zero chunk by Range, 4 at a time, as a node does;
// it returns the bytes fetched.
func fetchChunks(s *Service, id string) (int64, error) {
	req, _ := http.NewRequest("GET", "http://"+s.Addr()+"/v2/images/"+id+"/cowdisk-chunks?"+chunks.SpansQuery, nil)
	req.Header.Set("X-Auth-Token", "member")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, err
	}
	var list chunks.List
	err = json.NewDecoder(resp.Body).Decode(&list)
	resp.Body.Close()
	if err != nil {
		return 0, fmt.Errorf("chunk list: %s: %w", resp.Status, err)
	}
	if len(list.Spans) != len(list.Chunks) {
		return 0, fmt.Errorf("chunk list: %d spans for %d chunks", len(list.Spans), len(list.Chunks))
	}
	zero := hex.EncodeToString(chunks.ZeroDigest(list.ChunkSize))
	var wg sync.WaitGroup
	var moved atomic.Int64
	slots := make(chan struct{}, 4)
	errs := make(chan error, len(list.Chunks))
	for i, d := range list.Chunks {
		if d == zero {
			continue
		}
		at := int64(i) * list.ChunkSize
		lo := at + int64(list.Spans[i][0])*list.SpanUnit
		hi := min(at+int64(list.Spans[i][1])*list.SpanUnit, list.Size) - 1
		slots <- struct{}{}
		wg.Go(func() {
			defer func() { <-slots }()
			n, err := fetch(s, "/v2/images/"+id+"/file", fmt.Sprintf("bytes=%d-%d", lo, hi))
			moved.Add(n)
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			return moved.Load(), err
		}
	}
	return moved.Load(), nil
}
