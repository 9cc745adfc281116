package testcluster_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/cowdisk/cowdisk/internal/ceph"
	"github.com/cowdisk/cowdisk/internal/testcluster"
)

func TestMain(m *testing.M) { testcluster.Main(m) }

// recorder is a testing.TB that keeps Errorf messages instead of failing,
// so the test can check what AssertPoolClean reports.
type recorder struct {
	testing.TB
	errs []string
}

func (r *recorder) Errorf(format string, args ...any) {
	r.errs = append(r.errs, fmt.Sprintf(format, args...))
}

func TestAssertPoolClean(t *testing.T) {
	c := testcluster.Connect(t)
	images, vms := testcluster.Pools(t, "testcluster")
	if images != "testcluster-images" || vms != "testcluster-vms" {
		t.Fatalf("Pools = %q, %q", images, vms)
	}
	ctx := context.Background()
	for _, n := range []string{"kept", "leaked"} {
		if err := c.CreateImage(ctx, images, n, 1<<20, ceph.ImageOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	t.Cleanup(func() {
		for _, n := range []string{"kept", "leaked"} {
			_ = c.Remove(ctx, images, n, ceph.RemoveOptions{Retries: -1})
		}
		_ = c.TrashPurge(ctx, images)
	})
	// A busy image with no retries and trash allowed lands in the trash.
	busy, err := c.OpenWriter(ctx, images, "busy", 1<<20, ceph.ImageOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Remove(ctx, images, "busy", ceph.RemoveOptions{Retries: -1, TrashAsLastResort: true}); err != nil {
		t.Fatal(err)
	}
	_ = busy.Abort(ctx)

	// A staging record nobody settled is a leftover too; an empty journal
	// object is not.
	staged, err := c.Stage(ctx, images, "tc1", "x")
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Intent(ctx, images, "tc2", "y"); err != nil {
		t.Fatal(err)
	}
	if err := c.Settle(ctx, images, "tc2", "y"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = c.Settle(ctx, images, "tc1", staged)
		_ = c.DropJournal(ctx, images, "tc1")
		_ = c.DropJournal(ctx, images, "tc2")
	})

	r := &recorder{TB: t}
	testcluster.AssertPoolClean(r, c, images, "kept")
	all := strings.Join(r.errs, "\n")
	if len(r.errs) != 3 || !strings.Contains(all, "leaked") || !strings.Contains(all, "trash") || !strings.Contains(all, staged) {
		t.Fatalf("AssertPoolClean reported %q; want the leaked image, the trash and the record of %s", r.errs, staged)
	}
	r = &recorder{TB: t}
	testcluster.AssertPoolClean(r, c, vms)
	if len(r.errs) != 0 {
		t.Fatalf("clean pool reported %q", r.errs)
	}
}
