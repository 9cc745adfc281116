package catalog

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/cowdisk/cowdisk/internal/errs"
)

var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// fixture is eight images, "i0".."i7", whose fields vary so that each
// filter below selects a different subset.
func fixture(t *testing.T, open opener) (*SQLCatalog, map[string]string) {
	t.Helper()
	ctx := context.Background()
	c := open(t)
	ids := map[string]string{}
	formats := []string{"raw", "qcow2", "raw", "iso", "qcow2", "raw", "vmdk", "raw"}
	for i := range 8 {
		name := fmt.Sprintf("i%d", i)
		id := fmt.Sprintf("00000000-0000-4000-8000-%012d", 7-i) // id order opposes name order
		img := Image{ID: id, Name: ptr(name), Status: StatusActive, DiskFormat: ptr(formats[i]),
			ContainerFormat: ptr("bare"), Size: ptr(int64(i * 100)), VirtualSize: ptr(int64(i * 1000)),
			Checksum: ptr(fmt.Sprintf("sum%d", i)), OSHashValue: ptr(fmt.Sprintf("hash%d", i)),
			Owner: "p1", Visibility: Private, Protected: i%4 == 0, OSHidden: i == 7, MinDisk: i % 2,
			Tags:       []string{"all", fmt.Sprintf("t%d", i%3)},
			Properties: map[string]string{"os_distro": []string{"debian", "ubuntu"}[i%2], "idx": name},
			CreatedAt:  t0.Add(time.Duration(i/2) * time.Hour), UpdatedAt: t0.Add(time.Duration(i) * time.Minute)}
		if i == 6 {
			img.Status, img.Size, img.Name = StatusQueued, nil, nil
		}
		if err := c.Create(ctx, img); err != nil {
			t.Fatal(err)
		}
		ids[id] = name
	}
	return c, ids
}

func eq(field string, v ...any) Cond { return Cond{Field: field, Op: "eq", Values: v} }
func op(field, o string, v any) Cond { return Cond{Field: field, Op: o, Values: []any{v}} }

// TestListFilters checks every filter kind and operator against a fixed
// set of images; the answer is compared as a set of names.
func testListFilters(t *testing.T, open opener) {
	c, ids := fixture(t, open)
	no, yes := false, true
	for _, tc := range []struct {
		name string
		f    Filter
		want string // names in id order... compared sorted
	}{
		{"all, hidden included", Filter{}, "i0 i1 i2 i3 i4 i5 i6 i7"},
		{"os_hidden false", Filter{OSHidden: &no}, "i0 i1 i2 i3 i4 i5 i6"},
		{"os_hidden true", Filter{OSHidden: &yes}, "i7"},
		{"name eq", Filter{Conds: []Cond{eq("name", "i3")}}, "i3"},
		{"name in", Filter{Conds: []Cond{{Field: "name", Op: "in", Values: []any{"i1", "i5", "nope"}}}}, "i1 i5"},
		{"id in", Filter{Conds: []Cond{{Field: "id", Op: "in", Values: []any{"00000000-0000-4000-8000-000000000000"}}}}, "i7"},
		{"status", Filter{Conds: []Cond{eq("status", StatusQueued)}}, "i6"},
		{"status shorthand", Filter{Status: StatusQueued}, "i6"},
		{"disk_format in", Filter{Conds: []Cond{{Field: "disk_format", Op: "in", Values: []any{"iso", "vmdk"}}}}, "i3 i6"},
		{"container_format", Filter{Conds: []Cond{eq("container_format", "ovf")}}, ""},
		{"checksum", Filter{Conds: []Cond{eq("checksum", "sum4")}}, "i4"},
		{"os_hash_value", Filter{Conds: []Cond{eq("os_hash_value", "hash2")}}, "i2"},
		{"protected", Filter{Conds: []Cond{eq("protected", true)}}, "i0 i4"},
		{"min_disk", Filter{Conds: []Cond{eq("min_disk", 1)}}, "i1 i3 i5 i7"},
		{"size gte lte", Filter{Conds: []Cond{op("size", "gte", 200), op("size", "lte", 400)}}, "i2 i3 i4"},
		{"virtual_size gt", Filter{Conds: []Cond{op("virtual_size", "gt", 5000)}}, "i6 i7"},
		{"created_at eq", Filter{Conds: []Cond{op("created_at", "eq", t0.Add(time.Hour))}}, "i2 i3"},
		{"created_at neq", Filter{Conds: []Cond{op("created_at", "neq", t0)}}, "i2 i3 i4 i5 i6 i7"},
		{"created_at gt", Filter{Conds: []Cond{op("created_at", "gt", t0.Add(2*time.Hour))}}, "i6 i7"},
		{"created_at gte", Filter{Conds: []Cond{op("created_at", "gte", t0.Add(2*time.Hour))}}, "i4 i5 i6 i7"},
		{"created_at lt", Filter{Conds: []Cond{op("created_at", "lt", t0.Add(time.Hour))}}, "i0 i1"},
		{"updated_at lte", Filter{Conds: []Cond{op("updated_at", "lte", t0.Add(2*time.Minute))}}, "i0 i1 i2"},
		{"tag", Filter{Tags: []string{"t1"}}, "i1 i4 i7"},
		{"two tags", Filter{Tags: []string{"t1", "all"}}, "i1 i4 i7"},
		{"property", Filter{Props: map[string]string{"os_distro": "ubuntu"}}, "i1 i3 i5 i7"},
		{"two properties", Filter{Props: map[string]string{"os_distro": "ubuntu", "idx": "i3"}}, "i3"},
		{"property absent", Filter{Props: map[string]string{"nope": "x"}}, ""},
		{"mixed", Filter{OSHidden: &no, Props: map[string]string{"os_distro": "debian"},
			Conds: []Cond{eq("disk_format", "raw")}, Tags: []string{"all"}}, "i0 i2"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := tc.f
			f.Admin, f.Limit = true, 100
			page, err := c.List(context.Background(), f)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, img := range page {
				got = append(got, ids[img.ID])
			}
			slices.Sort(got)
			if g := strings.Join(got, " "); g != tc.want {
				t.Fatalf("got %q, want %q", g, tc.want)
			}
		})
	}
}

func testListBadFilters(t *testing.T, open opener) {
	c, _ := fixture(t, open)
	for _, f := range []Filter{
		{Conds: []Cond{eq("properties", "x")}},                         // not a filterable column
		{Conds: []Cond{{Field: "size", Op: "like", Values: []any{1}}}}, // unknown operator
		{Conds: []Cond{{Field: "size", Op: "gt", Values: []any{1, 2}}}},
		{Conds: []Cond{op("created_at", "gt", "yesterday")}},
		{Sort: []Sort{{"name", "asc"}, {"bogus", "asc"}}},
		{Sort: []Sort{{"name", "up"}}},
	} {
		if _, err := c.List(context.Background(), f); !errors.Is(err, errs.ErrInvalid) {
			t.Errorf("%+v: got %v, want ErrInvalid", f, err)
		}
	}
}

// TestListMultiSortPaging walks pages of every size with two sort keys in
// opposite directions and compares the walk with the order computed here.
func testListMultiSortPaging(t *testing.T, open opener) {
	c, ids := fixture(t, open)
	byName := map[string]Image{}
	all, _ := c.List(context.Background(), Filter{Admin: true, Limit: 100})
	for _, img := range all {
		byName[ids[img.ID]] = img
	}
	for _, tc := range []struct {
		sort []Sort
		cmp  func(a, b Image) int
	}{
		{[]Sort{{"disk_format", "asc"}, {"created_at", "desc"}}, func(a, b Image) int {
			return cmp.Or(cmp.Compare(*a.DiskFormat, *b.DiskFormat), b.CreatedAt.Compare(a.CreatedAt), cmp.Compare(b.ID, a.ID))
		}},
		{[]Sort{{"min_disk", "desc"}, {"name", "asc"}}, func(a, b Image) int {
			return cmp.Or(cmp.Compare(b.MinDisk, a.MinDisk), cmp.Compare(deref(a.Name), deref(b.Name)), cmp.Compare(a.ID, b.ID))
		}},
		{[]Sort{{"created_at", "asc"}}, func(a, b Image) int {
			return cmp.Or(a.CreatedAt.Compare(b.CreatedAt), cmp.Compare(a.ID, b.ID))
		}},
	} {
		want := slices.Clone(all)
		slices.SortFunc(want, tc.cmp)
		for limit := 1; limit <= 9; limit++ {
			f := Filter{Admin: true, Sort: tc.sort, Limit: limit}
			var got []Image
			for range 20 {
				page, err := c.List(context.Background(), f)
				if err != nil {
					t.Fatal(err)
				}
				got = append(got, page...)
				if len(page) < limit {
					break
				}
				f.Marker = page[len(page)-1].ID
			}
			if g, w := names(got, ids), names(want, ids); g != w {
				t.Fatalf("sort %v, pages of %d: got %s, want %s", tc.sort, limit, g, w)
			}
		}
	}
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

func names(imgs []Image, ids map[string]string) string {
	var out []string
	for _, img := range imgs {
		out = append(out, ids[img.ID])
	}
	return strings.Join(out, " ")
}

// TestListMaxBytes: a page ends once its records hold MaxBytes, always has
// at least one record, and the walk by marker still reaches every image.
func testListMaxBytes(t *testing.T, open opener) {
	ctx := context.Background()
	c := open(t)
	big := strings.Repeat("x", 10_000)
	for i := range 10 {
		img := Image{ID: fmt.Sprintf("00000000-0000-4000-8000-%012d", i), Status: StatusActive, Owner: "p1",
			Visibility: Private, Properties: map[string]string{"blob": big},
			CreatedAt: t0.Add(time.Duration(i) * time.Second), UpdatedAt: t0}
		if err := c.Create(ctx, img); err != nil {
			t.Fatal(err)
		}
	}
	one := int64(10_000 + len("blob") + 8 + 512) // Footprint of each record
	for _, tc := range []struct {
		maxBytes int64
		pageLen  int
	}{{1, 1}, {one, 1}, {one + 1, 2}, {3 * one, 3}, {0, 10}, {100 * one, 10}} {
		f := Filter{Admin: true, Limit: 100, MaxBytes: tc.maxBytes}
		seen := 0
		for i := 0; ; i++ {
			page, err := c.List(ctx, f)
			if err != nil {
				t.Fatal(err)
			}
			if i == 0 && len(page) != tc.pageLen {
				t.Fatalf("MaxBytes %d: first page has %d records, want %d", tc.maxBytes, len(page), tc.pageLen)
			}
			if len(page) == 0 {
				break
			}
			if page[0].Footprint() != one {
				t.Fatalf("footprint %d, want %d", page[0].Footprint(), one)
			}
			seen += len(page)
			f.Marker = page[len(page)-1].ID
		}
		if seen != 10 {
			t.Fatalf("MaxBytes %d: walk saw %d images, want 10", tc.maxBytes, seen)
		}
	}
}

func testUsage(t *testing.T, open opener) {
	c, ids := fixture(t, open)
	ctx := context.Background()
	// Sizes 0..700 step 100, but i6 has none: 2800 - 600.
	if n, err := c.Usage(ctx, "p1"); err != nil || n != 2200 {
		t.Fatalf("usage %d %v, want 2200", n, err)
	}
	for id, name := range ids {
		if name == "i7" {
			c.Update(ctx, id, func(i *Image) error { i.Status = StatusDeleted; return nil })
		}
	}
	if n, _ := c.Usage(ctx, "p1"); n != 1500 {
		t.Fatalf("usage after deleting i7: %d, want 1500", n)
	}
	if n, err := c.Usage(ctx, "nobody"); err != nil || n != 0 {
		t.Fatalf("usage of an unknown project: %d %v", n, err)
	}
}
