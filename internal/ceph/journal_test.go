package ceph_test

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/cowdisk/cowdisk/internal/ceph"
	"github.com/cowdisk/cowdisk/internal/errs"
	"github.com/cowdisk/cowdisk/internal/testcluster"
)

// fastReap retries busy names quickly: the tests' watchers are released
// by the tests themselves, not expired by an OSD.
var fastReap = ceph.ReapOptions{Retries: 2, Interval: 50 * time.Millisecond}

// dropJournalAtEnd settles whatever owner's journal still records and
// removes it, so one failing test does not fail the next.
func dropJournalAtEnd(t *testing.T, c *ceph.Cluster, pool, owner string) {
	t.Cleanup(func() {
		ctx := context.Background()
		recs, _ := c.Journal(ctx, pool, owner)
		for n := range recs {
			_ = c.Remove(ctx, pool, n, ceph.RemoveOptions{Retries: -1})
			_ = c.Settle(ctx, pool, owner, n)
		}
		if err := c.DropJournal(ctx, pool, owner); err != nil {
			t.Errorf("cleanup: %v", err)
		}
	})
}

func TestJournalRecordsAndSettles(t *testing.T) {
	ctx, c, _, vms := setup(t)
	const owner = "jrec1"
	dropJournalAtEnd(t, c, vms, owner)
	final := imageName(t, "_disk")
	staged, err := c.Stage(ctx, vms, owner, final)
	if err != nil {
		t.Fatal(err)
	}
	if ceph.FinalName(staged) != final || staged == final {
		t.Fatalf("Stage(%s) = %q", final, staged)
	}
	if err := c.Intent(ctx, vms, owner, final); err != nil {
		t.Fatal(err)
	}
	recs, err := c.Journal(ctx, vms, owner)
	if err != nil || len(recs) != 2 || recs[staged] != "staged" || recs[final] != "intent" {
		t.Fatalf("Journal = %v, %v", recs, err)
	}
	for _, tc := range []struct {
		name string
		want bool
	}{{staged, true}, {final, true}, {final[:len(final)-1], false}, {final + "x", false}} {
		if ok, err := c.Recorded(ctx, vms, owner, tc.name); err != nil || ok != tc.want {
			t.Errorf("Recorded(%q) = %v, %v; want %v", tc.name, ok, err, tc.want)
		}
	}
	if ok, err := c.Recorded(ctx, vms, "jnobody", final); err != nil || ok {
		t.Errorf("another owner's journal records %s: %v, %v", final, ok, err)
	}
	if err := c.DropJournal(ctx, vms, owner); !errors.Is(err, errs.ErrInUse) {
		t.Errorf("DropJournal of a journal with records = %v, want ErrInUse", err)
	}
	if err := c.Settle(ctx, vms, owner, staged, final, "never-recorded"); err != nil {
		t.Fatal(err)
	}
	if recs, err := c.Journal(ctx, vms, owner); err != nil || len(recs) != 0 {
		t.Fatalf("Journal after Settle = %v, %v", recs, err)
	}
	if _, err := c.Stage(ctx, vms, "no-dashes", final); !errors.Is(err, errs.ErrInvalid) {
		t.Errorf("Stage with owner %q = %v, want ErrInvalid", "no-dashes", err)
	}
}

// The kill simulation: what a process killed mid-create leaves (a staged
// image, a clone under its final name without the completion marker, a
// header cut short) is removed by its owner's Reap; a complete image whose
// intent was never settled is kept, and an image merely named like this
// owner's temporaries, but never recorded, is not touched.
func TestReapRemovesOnlyRecorded(t *testing.T) {
	parent, c := parentWithSnap(t, randomData(t, mib))
	ctx, _, _, vms := setup(t)
	const owner = "jreap1"
	dropJournalAtEnd(t, c, vms, owner)
	halfClone, complete, cutShort := imageName(t, "_half"), imageName(t, "_done"), imageName(t, "_cut")
	for _, n := range []string{halfClone, complete, cutShort} {
		if err := c.Intent(ctx, vms, owner, n); err != nil {
			t.Fatal(err)
		}
		make := func() error { return c.Clone(ctx, parent, vms, n, ceph.ImageOptions{}) }
		if n == cutShort { // a header cut short (not a clone: it would pin the parent's snapshot)
			make = func() error { return c.CreateImage(ctx, vms, n, mib, ceph.ImageOptions{}) }
		}
		if err := make(); err != nil {
			t.Fatal(err)
		}
	}
	removeAtEnd(t, c, vms, complete)
	if err := c.Complete(ctx, vms, complete, 2*mib, map[string]string{"cowdisk.owner": "p1"}); err != nil {
		t.Fatal(err)
	}
	if err := c.DropHeader(ctx, vms, cutShort); err != nil {
		t.Fatal(err)
	}
	staged, err := c.Stage(ctx, vms, owner, imageName(t, "_base"))
	if err != nil {
		t.Fatal(err)
	}
	newImage(t, ctx, c, vms, staged, mib)
	// What a hostile image service once got planted: a name of this
	// owner's spelling that it never recorded.
	planted := ceph.StageName(imageName(t, "_planted"), owner)
	newImage(t, ctx, c, vms, planted, mib)

	reaped, err := c.Reap(ctx, vms, owner, fastReap)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{cutShort, halfClone, staged}
	slices.Sort(want)
	if !slices.Equal(reaped, want) {
		t.Fatalf("Reap removed %v, want %v", reaped, want)
	}
	testcluster.AssertPoolClean(t, c, vms, complete, planted)
	if info, err := c.Stat(ctx, vms, complete); err != nil || info.Size != 2*mib {
		t.Fatalf("complete disk after Reap: %+v, %v", info, err)
	}
}

// A publish claim left by a crash is its owner's reaper's to remove, but
// only while it is still that owner's claim: once gone and made again by
// another owner (the name is everyone's), the stale record is just dropped.
func TestReapClaims(t *testing.T) {
	ctx, c, _, vms := setup(t)
	const owner, other = "jclaim1", "jclaim2"
	dropJournalAtEnd(t, c, vms, owner)
	dropJournalAtEnd(t, c, vms, other)
	crashed, retaken := imageName(t, "_base1"), imageName(t, "_base2")
	for _, final := range []string{crashed, retaken} {
		if err := c.HoldClaim(ctx, vms, owner, final); err != nil {
			t.Fatal(err)
		}
	}
	// retaken: our claim went (the crash came after its removal, before
	// its record was settled) and another owner holds a new one.
	theirs := ceph.ClaimName(retaken)
	if err := c.Remove(ctx, vms, theirs, ceph.RemoveOptions{Retries: -1}); err != nil {
		t.Fatal(err)
	}
	if err := c.HoldClaim(ctx, vms, other, retaken); err != nil { // removed with other's journal at the end
		t.Fatal(err)
	}
	reaped, err := c.Reap(ctx, vms, owner, fastReap)
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{ceph.ClaimName(crashed)}; !slices.Equal(reaped, want) {
		t.Fatalf("Reap removed %v, want %v", reaped, want)
	}
	if recs, err := c.Journal(ctx, vms, owner); err != nil || len(recs) != 0 {
		t.Fatalf("journal after Reap: %v %v, want empty", recs, err)
	}
	if ok, err := c.Exists(ctx, vms, theirs, ""); err != nil || !ok {
		t.Fatalf("the other owner's claim after our Reap: exists %v, %v", ok, err)
	}
}

// A leftover still watched (a killed writer's watch not yet expired) is
// retried, then trashed, and keeps its record until a later Reap purges it.
func TestReapTrashesBusyThenPurges(t *testing.T) {
	ctx, c, _, vms := setup(t)
	const owner = "jbusy1"
	dropJournalAtEnd(t, c, vms, owner)
	staged, err := c.Stage(ctx, vms, owner, imageName(t, "_disk"))
	if err != nil {
		t.Fatal(err)
	}
	unwatch := busyImage(t, ctx, c, vms, staged)
	t.Cleanup(func() { _ = c.TrashPurge(context.Background(), vms) })
	reaped, err := c.Reap(ctx, vms, owner, fastReap)
	if !errors.Is(err, errs.ErrBusy) || len(reaped) != 0 {
		t.Fatalf("Reap of a watched leftover = %v, %v; want nothing settled and ErrBusy from the purge", reaped, err)
	}
	if ok, _ := c.Recorded(ctx, vms, owner, staged); !ok {
		t.Fatal("the record of a trashed leftover was dropped before the purge")
	}
	if names, _ := c.ListImages(ctx, vms); slices.Contains(names, staged) {
		t.Fatalf("%s still in the pool after the last round", staged)
	}
	unwatch()
	if reaped, err := c.Reap(ctx, vms, owner, fastReap); err != nil || !slices.Equal(reaped, []string{staged}) {
		t.Fatalf("second Reap = %v, %v; want %s purged", reaped, err, staged)
	}
	testcluster.AssertPoolClean(t, c, vms)
}

// Publish onto a name two owners race for is exclusive: exactly one wins,
// the other gets ErrExists and keeps its staged image to discard.
func TestPublishExclusiveRace(t *testing.T) {
	ctx, c, _, vms := setup(t)
	final := imageName(t, "_base")
	for round := range 5 {
		var staged [2]string
		owners := [2]string{"ra", "rb"}
		for i := range staged {
			staged[i] = ceph.StageName(final, owners[i])
			newImage(t, ctx, c, vms, staged[i], mib)
		}
		var errsOf [2]error
		var wg sync.WaitGroup
		for i := range staged {
			wg.Go(func() { errsOf[i] = c.Publish(ctx, vms, staged[i], final, owners[i]) })
		}
		wg.Wait()
		won := slices.IndexFunc(errsOf[:], func(err error) bool { return err == nil })
		lost := 1 - won
		if won < 0 || !errors.Is(errsOf[lost], errs.ErrExists) {
			t.Fatalf("round %d: Publish results %v; want one nil, one ErrExists", round, errsOf)
		}
		testcluster.AssertPoolClean(t, c, vms, final, staged[lost])
		for _, n := range []string{final, staged[lost]} {
			if err := c.Remove(ctx, vms, n, ceph.RemoveOptions{Retries: -1}); err != nil {
				t.Fatal(err)
			}
		}
	}
}
