package catalog

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/cowdisk/cowdisk/internal/errs"
)

// addProps has n writers, alternating between the given catalogs, each add
// one property to the same image; every add must survive.
func addProps(t *testing.T, cats []*SQLCatalog, id string, n int) {
	t.Helper()
	var wg sync.WaitGroup
	sem := make(chan struct{}, 16)
	for i := range n {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			_, err := cats[i%len(cats)].Update(context.Background(), id, func(img *Image) error {
				img.Properties[fmt.Sprintf("k%03d", i)] = "v"
				return nil
			})
			if err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	img, err := cats[0].Get(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	if len(img.Properties) != n || img.Version != int64(n) {
		t.Fatalf("after %d concurrent adds: %d properties, version %d", n, len(img.Properties), img.Version)
	}
}

func testConcurrentUpdates(t *testing.T, b backend) {
	c := b.open(t)
	ids := seed(t, c, 1, "projecta", Private)
	addProps(t, []*SQLCatalog{c}, ids[0], 100)
}

// testTwoOpenersOneDB is two replicas on one catalog: no lost update, and
// a status transition raced from both has exactly one winner.
func testTwoOpenersOneDB(t *testing.T, b backend) {
	dsn := b.fresh(t)
	c1, c2 := openDSN(t, dsn), openDSN(t, dsn)
	ids := seed(t, c1, 1, "projecta", Private)
	addProps(t, []*SQLCatalog{c1, c2}, ids[0], 100)

	var wg sync.WaitGroup
	results := make([]error, 8)
	for i := range results {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, results[i] = []*SQLCatalog{c1, c2}[i%2].Update(context.Background(), ids[0], func(img *Image) error {
				if img.Status != StatusQueued {
					return fmt.Errorf("image is %s: %w", img.Status, errs.ErrConflict)
				}
				img.Status = StatusSaving
				return nil
			})
		}()
	}
	wg.Wait()
	won := 0
	for _, err := range results {
		switch {
		case err == nil:
			won++
		case !errors.Is(err, errs.ErrConflict):
			t.Fatalf("loser got %v, want ErrConflict", err)
		}
	}
	if won != 1 {
		t.Fatalf("%d replicas moved the image from queued to saving, want 1", won)
	}
}

// TestOpenRefusesUnknownScheme: a --db that is a URL of another kind is
// refused, not made into a file called "mysql:".
func TestOpenRefusesUnknownScheme(t *testing.T) {
	c, err := Open(context.Background(), t.TempDir()+"/plain.db", PoolOptions{})
	if err != nil {
		t.Fatalf("a plain path must open: %v", err)
	}
	c.Close()
	for _, db := range []string{"mysql://u@h/db", "sqlite://x.db", "http://x", ""} {
		if c, err := Open(context.Background(), db, PoolOptions{}); !errors.Is(err, errs.ErrInvalid) {
			if c != nil {
				c.Close()
			}
			t.Errorf("Open(%q): %v, want ErrInvalid", db, err)
		}
	}
}

// TestPostgresDownIsUnavailable: with the server gone the catalog answers
// ErrUnavailable (503 at the edge), and works again once it is back,
// without reopening.
func TestPostgresDownIsUnavailable(t *testing.T) {
	ctx := context.Background()
	c := backends[1].open(t)
	ids := seed(t, c, 1, "projecta", Private)
	if err := pg.Stop(); err != nil {
		t.Fatal(err)
	}
	restarted := false
	defer func() {
		if !restarted {
			pg.Start(ctx)
		}
	}()
	if _, err := c.Get(ctx, ids[0]); !errors.Is(err, errs.ErrUnavailable) {
		t.Fatalf("get with PostgreSQL down: %v, want ErrUnavailable", err)
	}
	if err := c.Ping(ctx); !errors.Is(err, errs.ErrUnavailable) {
		t.Fatalf("ping with PostgreSQL down: %v", err)
	}
	if err := pg.Start(ctx); err != nil {
		t.Fatal(err)
	}
	restarted = true
	if _, err := c.Update(ctx, ids[0], func(i *Image) error { i.MinDisk = 3; return nil }); err != nil {
		t.Fatalf("update after PostgreSQL came back: %v", err)
	}
	if img, err := c.Get(ctx, ids[0]); err != nil || img.MinDisk != 3 {
		t.Fatalf("after restart: %+v %v", img, err)
	}
}

// testLeaseRoundTrip: a lease is stored and read back whole, and a
// cleared one reads as none.
func testLeaseRoundTrip(t *testing.T, b backend) {
	ctx := context.Background()
	c := b.open(t)
	id := seed(t, c, 1, "projecta", Private)[0]
	img, err := c.Update(ctx, id, func(i *Image) error {
		i.Lease.Take("replica-1", time.Minute, i.Status)
		i.Status = StatusSaving
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	got, err := c.Get(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if !got.Lease.HeldBy("replica-1") || got.Lease.HeldBy("replica-2") || got.Lease.PrevStatus != StatusQueued ||
		!got.Lease.Until.Equal(img.Lease.Until) || got.Lease.Expired(time.Now()) ||
		!got.Lease.Expired(time.Now().Add(2*time.Minute)) {
		t.Fatalf("lease read back: %+v, wrote %+v", got.Lease, img.Lease)
	}
	c.Update(ctx, id, func(i *Image) error { i.Lease = Lease{}; return nil })
	if got, _ = c.Get(ctx, id); got.Lease != (Lease{}) || !got.Lease.Expired(time.Now()) {
		t.Fatalf("cleared lease read back as %+v", got.Lease)
	}
}
