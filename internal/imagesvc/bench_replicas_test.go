package imagesvc

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cowdisk/cowdisk/internal/ostest"
)

// catalogSetup is one way of running the image service for the bench.
type catalogSetup struct {
	name     string
	replicas int
	postgres bool
}

var benchSetups = []catalogSetup{{"sqlite-1", 1, false}, {"postgres-1", 1, true}, {"postgres-2", 2, true}}

// benchReplicas starts the setup's replicas on a fresh catalog.
func benchReplicas(b *testing.B, cs catalogSetup) []*Service {
	db := filepath.Join(b.TempDir(), "c.db")
	if cs.postgres {
		var err error
		if db, err = ostest.StartPostgres(b).CreateDatabase(context.Background(), "images"); err != nil {
			b.Fatal(err)
		}
	}
	var svcs []*Service
	for range cs.replicas {
		// Quiet: a log line per request would be what is measured.
		s, _, _, _ := startRBD(b, func(cfg *Config) { cfg.DB, cfg.Logger = db, slog.New(slog.DiscardHandler) })
		svcs = append(svcs, s)
	}
	return svcs
}

// BenchmarkCatalogReplicas: list (1,000 images, pages of 100, walked to
// the end) and show throughput at 8 concurrent clients, requests spread
// over the replicas, for 1 replica on SQLite, 1 and 2 on PostgreSQL; then
// a 1 GiB upload (COWDISK_BENCH_SIZE) on SQLite and on PostgreSQL. One run:
//
//	go test -tags pacific -run XXX -bench CatalogReplicas -benchtime 1x ./internal/imagesvc/
func BenchmarkCatalogReplicas(b *testing.B) {
	path, size := benchFile(b)
	upload := map[bool]time.Duration{}
	for _, cs := range benchSetups {
		svcs := benchReplicas(b, cs)
		ids := make([]string, 1000)
		for i := range ids {
			var img struct{ ID string }
			post(b, svcs[0], "/v2/images", fmt.Sprintf(`{"name":"bench-%d","disk_format":"raw","container_format":"bare"}`, i), &img)
			ids[i] = img.ID
		}
		pages := throughput(b, svcs, func(s *Service, i int) { walkList(b, s) })
		shows := throughput(b, svcs, func(s *Service, i int) { get(b, s, "/v2/images/"+ids[i%len(ids)]) })
		b.ReportMetric(pages*10, cs.name+"-list-pages/s")
		b.ReportMetric(shows, cs.name+"-shows/s")
		if cs.replicas == 1 {
			cl := benchClient(b, svcs[0])
			upload[cs.postgres] = benchImage(b, cl, func(id string) error {
				return uploadFile(context.Background(), cl, id, path, size)
			})
			b.ReportMetric(upload[cs.postgres].Seconds(), cs.name+"-upload-s")
		}
	}
	b.ReportMetric(upload[true].Seconds()/upload[false].Seconds(), "upload-postgres/sqlite")
}

// throughput runs op from 8 clients for 3 s, spreading calls over svcs,
// and returns the calls per second.
func throughput(b *testing.B, svcs []*Service, op func(s *Service, i int)) float64 {
	var n atomic.Int64
	var wg sync.WaitGroup
	end := time.Now().Add(3 * time.Second)
	for w := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; time.Now().Before(end); i += 8 {
				op(svcs[i%len(svcs)], i)
				n.Add(1)
			}
		}()
	}
	wg.Wait()
	return float64(n.Load()) / 3
}

// walkList reads every page of 100 of the image list (counted as one).
func walkList(b *testing.B, s *Service) {
	next := "/v2/images?limit=100"
	for next != "" {
		var page struct{ Next string }
		get(b, s, next, &page)
		next = page.Next
	}
}

func get(b *testing.B, s *Service, path string, out ...any) {
	code, body, err := send(s, "GET", path, "member", "", nil)
	decode(b, "GET "+path, code, 200, body, err, out)
}

func post(b *testing.B, s *Service, path, body string, out ...any) {
	code, resp, err := send(s, "POST", path, "member", "application/json", strings.NewReader(body))
	decode(b, "POST "+path, code, 201, resp, err, out)
}

func decode(b *testing.B, what string, code, want int, body string, err error, out []any) {
	if err != nil || code != want {
		b.Fatalf("%s: %d %s %v", what, code, body, err)
	}
	if len(out) > 0 {
		if err := json.Unmarshal([]byte(body), out[0]); err != nil {
			b.Fatalf("%s: %v", what, err)
		}
	}
}
