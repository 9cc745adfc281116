package catalog

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/cowdisk/cowdisk/internal/errs"
)

func ptr[T any](v T) *T { return &v }

func seed(t *testing.T, c Catalog, n int, owner, vis string, tags ...string) []string {
	t.Helper()
	base := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	var ids []string
	for i := range n {
		id := fmt.Sprintf("00000000-0000-4000-8000-%s%05d", owner[len(owner)-1:], i)
		img := Image{ID: id, Name: ptr(fmt.Sprintf("%s-%d", owner, i%3)), Status: StatusQueued,
			Owner: owner, Visibility: vis, Tags: tags,
			CreatedAt: base.Add(time.Duration(i/2) * time.Second), UpdatedAt: base}
		if err := c.Create(context.Background(), img); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
	}
	return ids
}

func testCreateGetUpdatePersist(t *testing.T, b backend) {
	ctx := context.Background()
	dsn := b.fresh(t)
	c, err := Open(ctx, dsn, PoolOptions{})
	if err != nil {
		t.Fatal(err)
	}
	ids := seed(t, c, 1, "projecta", Private, "x")
	if err := c.Create(ctx, Image{ID: ids[0]}); !errors.Is(err, errs.ErrExists) {
		t.Fatalf("duplicate create: %v", err)
	}
	if _, err := c.Get(ctx, "nope"); !errors.Is(err, errs.ErrNotFound) {
		t.Fatalf("get missing: %v", err)
	}
	boom := errors.New("boom")
	if _, err := c.Update(ctx, ids[0], func(i *Image) error { i.Status = StatusActive; return boom }); err != boom {
		t.Fatalf("update fn error not returned: %v", err)
	}
	_, err = c.Update(ctx, ids[0], func(i *Image) error {
		i.Size, i.Properties = ptr(int64(42)), map[string]string{"os_distro": "debian"}
		i.Locations = []Location{{URL: "file:///x", Metadata: map[string]string{}}}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	c.Close()
	// Reopen: the record and schema survive a restart, migrations are not rerun.
	c, err = Open(ctx, dsn, PoolOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	img, err := c.Get(ctx, ids[0])
	if err != nil {
		t.Fatal(err)
	}
	if img.Status != StatusQueued || *img.Size != 42 || img.Properties["os_distro"] != "debian" ||
		len(img.Locations) != 1 || img.Tags[0] != "x" || img.VirtualSize != nil {
		t.Fatalf("after reopen: %+v", img)
	}
}

func testNewerSchemaRefused(t *testing.T, b backend) {
	ctx := context.Background()
	dsn := b.fresh(t)
	c := openDSN(t, dsn)
	if _, err := c.raw.ExecContext(ctx, b.bumpSchema); err != nil {
		t.Fatal(err)
	}
	c.Close()
	if _, err := Open(ctx, dsn, PoolOptions{}); !errors.Is(err, errs.ErrInvalid) {
		t.Fatalf("want ErrInvalid for a newer schema, got %v", err)
	}
}

func testListPagingAndVisibility(t *testing.T, open opener) {
	ctx := context.Background()
	c := open(t)
	mine := seed(t, c, 7, "projecta", Private, "gold")
	seed(t, c, 3, "projectb", Private)
	seed(t, c, 2, "projectc", Public, "gold")
	seed(t, c, 2, "projectd", Community)

	for _, tc := range []struct {
		name string
		f    Filter
		want int
	}{
		{"default own+public", Filter{Project: "projecta"}, 9},
		{"community on request", Filter{Project: "projecta", Visibility: Community}, 2},
		{"all", Filter{Project: "projecta", Visibility: "all"}, 11},
		{"private is own only", Filter{Project: "projecta", Visibility: Private}, 7},
		{"admin sees all", Filter{Admin: true}, 14},
		{"tag", Filter{Project: "projecta", Tags: []string{"gold"}}, 9},
		{"name", Filter{Project: "projecta", Name: "projecta-0"}, 3},
		{"owner", Filter{Admin: true, Owner: "projectb"}, 3},
		{"sort by name asc", Filter{Project: "projecta", SortKey: "name", SortDir: "asc"}, 9},
		{"sort by size", Filter{Project: "projecta", SortKey: "size"}, 9},
	} {
		t.Run(tc.name, func(t *testing.T) {
			// Walk pages of 2 and check the union is complete and without repeats.
			seen := map[string]bool{}
			f := tc.f
			f.Limit = 2
			for range 20 {
				page, err := c.List(ctx, f)
				if err != nil {
					t.Fatal(err)
				}
				for _, img := range page {
					if seen[img.ID] {
						t.Fatalf("image %s listed twice", img.ID)
					}
					seen[img.ID] = true
				}
				if len(page) < f.Limit {
					break
				}
				f.Marker = page[len(page)-1].ID
			}
			if len(seen) != tc.want {
				t.Fatalf("got %d images, want %d", len(seen), tc.want)
			}
		})
	}
	if _, err := c.List(ctx, Filter{Project: "projecta", Marker: "missing"}); !errors.Is(err, errs.ErrNotFound) {
		t.Fatalf("unknown marker: %v", err)
	}
	if _, err := c.List(ctx, Filter{SortKey: "bogus; DROP TABLE images"}); !errors.Is(err, errs.ErrInvalid) {
		t.Fatalf("bad sort key: %v", err)
	}
	// Deleted images drop out of lists but stay gettable for the API to judge.
	if _, err := c.Update(ctx, mine[0], func(i *Image) error { i.Status = StatusDeleted; return nil }); err != nil {
		t.Fatal(err)
	}
	page, _ := c.List(ctx, Filter{Project: "projecta", Visibility: Private, Limit: 100})
	if len(page) != 6 {
		t.Fatalf("deleted image still listed: %d", len(page))
	}
}
