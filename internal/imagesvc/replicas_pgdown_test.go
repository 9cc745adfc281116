package imagesvc

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cowdisk/cowdisk/internal/imagesvc/catalog"
	"github.com/cowdisk/cowdisk/internal/ostest"
)

// TestPostgresDownUnderLoad: PostgreSQL stopped and started again while
// clients create and patch images. While it is down: 503 naming the
// catalog database, /healthz 503; never a 500. After: the same service,
// not restarted, answers again; every create and patch it acknowledged is
// in the catalog.
func TestPostgresDownUnderLoad(t *testing.T) {
	pg := ostest.StartPostgres(t)
	db, err := pg.CreateDatabase(context.Background(), "images")
	if err != nil {
		t.Fatal(err)
	}
	s, _, _, _ := startRBD(t, func(cfg *Config) {
		cfg.DB = db
		cfg.DBPool = catalog.PoolOptions{ConnectTimeout: time.Second}
	})
	var (
		mu           sync.Mutex
		created      = map[string][]string{} // id -> acknowledged property keys
		n503, n500   atomic.Int64
		stop         = make(chan struct{})
		wg           sync.WaitGroup
		sawReason    atomic.Bool
		healthDown   atomic.Bool
		healthWasBad = func() {
			if resp, err := http.Get("http://" + s.Addr() + "/healthz"); err == nil {
				resp.Body.Close()
				if resp.StatusCode == 503 {
					healthDown.Store(true)
				}
			}
		}
	)
	load := func(w int) {
		defer wg.Done()
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			code, body, _ := send(s, "POST", "/v2/images", "member", "application/json",
				strings.NewReader(fmt.Sprintf(`{"name":"w%d-%d"}`, w, i)))
			var img struct{ ID string }
			switch code {
			case 201:
				json.Unmarshal([]byte(body), &img)
				key := fmt.Sprintf("k%d", i)
				pc, _, _ := send(s, "PATCH", "/v2/images/"+img.ID, "member", "application/openstack-images-v2.1-json-patch",
					strings.NewReader(`[{"op":"add","path":"/`+key+`","value":"v"}]`))
				mu.Lock()
				created[img.ID] = nil
				if pc == 200 {
					created[img.ID] = []string{key}
				}
				mu.Unlock()
			case 503:
				n503.Add(1)
				if strings.Contains(body, "catalog's database is unreachable") {
					sawReason.Store(true)
				}
			default:
				if code >= 500 {
					n500.Add(1)
					t.Errorf("create: %d %s", code, body)
				}
			}
		}
	}
	for w := range 4 {
		wg.Add(1)
		go load(w)
	}
	time.Sleep(time.Second)
	if err := pg.Stop(); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 30*time.Second, "503s while PostgreSQL is down", func() bool { healthWasBad(); return n503.Load() > 0 && healthDown.Load() })
	if err := pg.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 30*time.Second, "healthy again without a restart", func() bool {
		resp, err := http.Get("http://" + s.Addr() + "/healthz")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == 200
	})
	before := len(created)
	time.Sleep(time.Second)
	close(stop)
	wg.Wait()
	if !sawReason.Load() {
		t.Error("no 503 named the catalog database as the reason")
	}
	t.Logf("%d images acknowledged (%d after recovery), %d answers 503, %d 5xx other", len(created), len(created)-before, n503.Load(), n500.Load())
	if len(created) == before {
		t.Fatal("no create succeeded after PostgreSQL came back")
	}
	checkAcknowledged(t, db, created)
}

func checkAcknowledged(t *testing.T, db string, created map[string][]string) {
	t.Helper()
	ctx := context.Background()
	cat := openCatalog(t, db)
	for id, keys := range created {
		img, err := cat.Get(ctx, id)
		if err != nil {
			t.Errorf("acknowledged image %s lost: %v", id, err)
			continue
		}
		for _, k := range keys {
			if img.Properties[k] != "v" {
				t.Errorf("image %s lost acknowledged property %s", id, k)
			}
		}
	}
}
