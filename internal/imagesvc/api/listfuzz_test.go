package api

import (
	"context"
	"errors"
	"testing"

	"github.com/cowdisk/cowdisk/internal/errs"
	"github.com/cowdisk/cowdisk/internal/imagesvc/catalog"
)

// FuzzListQuery feeds arbitrary query strings to the list parser and runs
// what it accepts against a real catalog. Invariants: no panic; a refusal
// is a 4xx; an accepted filter never makes the catalog fail with anything
// but an unknown marker; a non-admin never sees another project's private
// image; hidden images appear only when os_hidden=true was parsed.
func FuzzListQuery(f *testing.F) {
	for _, seed := range []string{
		"", "os_hidden=True", "name=in:a,%22b,c%22&sort=name:asc,created_at:desc", "k=v&tag=x&tag=y",
		"created_at=gte:2026-01-01T00:00:00Z&size_min=1&size_max=9", "sort_key=name&sort_dir=asc&sort_dir=desc",
		"visibility=all&member_status=all&limit=0", "updated_at=2026-01-01", "name=%ff", "id=in:", "limit=99999",
	} {
		f.Add(seed)
	}
	ctx := context.Background()
	cat, err := catalog.OpenSQLite(ctx, ":memory:")
	if err != nil {
		f.Fatal(err)
	}
	defer cat.Close()
	for i, owner := range []string{"p1", "p2", "p2"} {
		img := catalog.Image{ID: "00000000-0000-4000-8000-00000000000" + string(rune('0'+i)), Status: catalog.StatusActive,
			Owner: owner, Visibility: catalog.Private, OSHidden: i == 2, Properties: map[string]string{"k": "v"}}
		if err := cat.Create(ctx, img); err != nil {
			f.Fatal(err)
		}
	}
	s := New(Config{Catalog: cat, Store: idOnly{}})
	f.Fuzz(func(t *testing.T, raw string) {
		flt, _, err := s.parseListQuery(raw)
		if err != nil {
			if c := status(err); c < 400 || c >= 500 {
				t.Fatalf("refusal maps to %d: %v", c, err)
			}
			return
		}
		if flt.Limit > s.cfg.Limits.MaxPageSize || flt.MaxBytes != s.cfg.Limits.MaxPageBytes {
			t.Fatalf("unbounded page: %+v", flt)
		}
		flt.Project = fuzzCaller.Project
		page, err := cat.List(ctx, flt)
		if err != nil && !errors.Is(err, errs.ErrNotFound) {
			t.Fatalf("accepted query %q fails in the catalog: %v", raw, err)
		}
		for _, img := range page {
			if img.Owner != "p1" || (img.OSHidden && !*flt.OSHidden) {
				t.Fatalf("query %q listed %+v", raw, img)
			}
		}
	})
}
