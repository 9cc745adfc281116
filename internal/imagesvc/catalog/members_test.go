package catalog

import (
	"context"
	"database/sql"
	"errors"
	"testing"

	"github.com/cowdisk/cowdisk/internal/errs"
)

func testMembers(t *testing.T, open opener) {
	ctx := context.Background()
	c := open(t)
	ids := seed(t, c, 3, "projecta", Shared)
	if _, err := c.AddMember(ctx, ids[0], "projectb"); err != nil {
		t.Fatal(err)
	}
	if _, err := c.AddMember(ctx, ids[0], "projectb"); !errors.Is(err, errs.ErrExists) {
		t.Fatalf("second add: %v", err)
	}
	c.AddMember(ctx, ids[1], "projectb")
	c.AddMember(ctx, ids[2], "projectb")
	c.SetMemberStatus(ctx, ids[1], "projectb", MemberAccepted)
	c.SetMemberStatus(ctx, ids[2], "projectb", MemberRejected)
	// Updating an image with members must not trip the foreign key.
	if _, err := c.Update(ctx, ids[1], func(i *Image) error { i.MinDisk = 1; return nil }); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		f    Filter
		want int
	}{
		{Filter{Project: "projectb"}, 1}, // accepted only
		{Filter{Project: "projectb", MemberStatus: MemberPending}, 1},
		{Filter{Project: "projectb", MemberStatus: "all", Visibility: Shared}, 3},
		{Filter{Project: "projectc"}, 0},
		{Filter{Project: "projecta", Visibility: Shared}, 3},
	} {
		got, err := c.List(ctx, Filter{Project: tc.f.Project, Visibility: tc.f.Visibility, MemberStatus: tc.f.MemberStatus, Limit: 10})
		if err != nil || len(got) != tc.want {
			t.Errorf("%+v: %d images (%v), want %d", tc.f, len(got), err, tc.want)
		}
	}
	if ms, err := c.ListMembers(ctx, ids[0]); err != nil || len(ms) != 1 || ms[0].Status != MemberPending {
		t.Fatalf("members %+v %v", ms, err)
	}
	if err := c.RemoveMember(ctx, ids[0], "projectb"); err != nil {
		t.Fatal(err)
	}
	for _, err := range []error{c.RemoveMember(ctx, ids[0], "projectb"),
		func() error { _, err := c.Member(ctx, ids[0], "projectb"); return err }(),
		func() error { _, err := c.SetMemberStatus(ctx, ids[0], "projectb", MemberAccepted); return err }()} {
		if !errors.Is(err, errs.ErrNotFound) {
			t.Errorf("after remove: %v", err)
		}
	}
}

// TestMigratesVersion1: a catalog written before members existed gains the
// table on open and keeps its images.
func TestMigratesVersion1(t *testing.T) {
	ctx := context.Background()
	path := t.TempDir() + "/c.db"
	// A version-1 database is exactly what the first migration made;
	// later column additions must not already be there.
	db, err := sql.Open("sqlite", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.ExecContext(ctx, migrations[0]+"; PRAGMA user_version = 1"); err != nil {
		t.Fatal(err)
	}
	id := "00000000-0000-4000-8000-000000000001"
	if _, err := db.ExecContext(ctx, `INSERT INTO images (id, status, owner, visibility, created_at, updated_at)
		VALUES (?, 'queued', 'projecta', 'shared', 0, 0)`, id); err != nil {
		t.Fatal(err)
	}
	db.Close()
	ids := []string{id}
	var c *SQLite
	if c, err = OpenSQLite(ctx, path); err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := c.Get(ctx, ids[0]); err != nil {
		t.Fatal(err)
	}
	if _, err := c.AddMember(ctx, ids[0], "projectb"); err != nil {
		t.Fatalf("members after migration: %v", err)
	}
}
