package ceph

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/cowdisk/cowdisk/internal/backoff"
	"github.com/cowdisk/cowdisk/internal/errs"
)

// ReapOptions tune Reap. Zero values: 12 retry rounds 5 s apart (Nova's,
// past the ~30 s an OSD takes to expire a killed process's watch).
type ReapOptions struct {
	Retries  int
	Interval time.Duration
	// Hold, when set, is held around the look at and the removal of an
	// intent's image: a create of the same name in this process records
	// the same intent again, and must not have its fresh clone taken for
	// the crashed one.
	Hold func(ctx context.Context, name string) (release func(), err error)
}

func (o ReapOptions) withDefaults() ReapOptions {
	if o.Retries <= 0 {
		o.Retries = 12
	}
	if o.Interval <= 0 {
		o.Interval = 5 * time.Second
	}
	return o
}

// Reap removes what owner's journal in pool records and a crash left: every
// staged name, every intent whose image is incomplete (no MetaComplete),
// and every publish claim still holding its recorded id. An intent whose
// image is complete or absent, or a claim gone or made again by another
// owner, just drops its record. No unrecorded image is ever touched. It returns the names it
// removed, and every failure joined.
//
// A leftover of a killed process may still carry that process's watch until
// the OSD expires it, and librbd refuses to remove a watched image; moving
// it to the trash at once would leave it there, watched. So every name is
// tried once per round, the busy ones again after o.Interval, and only the
// last round trashes what is still busy. Then this owner's recorded names
// are purged from the trash; one still watched keeps its record for the next
// start. Reap may take about a minute and stops early, ctx.Err() joined,
// when ctx ends. Callers start it before serving creates (it reads the
// journal once, at the start), and may run it in the background.
func (c *Cluster) Reap(ctx context.Context, pool, owner string, o ReapOptions) ([]string, error) {
	o = o.withDefaults()
	recs, err := c.Journal(ctx, pool, owner)
	if err != nil {
		return nil, err
	}
	pending := slices.Sorted(maps.Keys(recs))
	var settled, removed []string
	var failed []error
	for round := 0; len(pending) > 0; round++ {
		last := round >= o.Retries
		var busy []string
		for _, n := range pending {
			gone, err := c.reapOne(ctx, pool, n, recs[n], last, o.Hold)
			switch {
			case err == nil:
				if gone {
					slog.InfoContext(ctx, "ceph: reaped a recorded leftover", "image", imageSpec(pool, n), "kind", recs[n], "round", round)
					removed = append(removed, n)
				}
				settled = append(settled, n)
			case errors.Is(err, errs.ErrBusy) && !last:
				busy = append(busy, n)
			default:
				failed = append(failed, err)
			}
		}
		if pending = busy; len(pending) == 0 {
			break
		}
		if err := backoff.Sleep(ctx, o.Interval); err != nil {
			failed = append(failed, fmt.Errorf("ceph: reap of %v in %s stopped: %w", pending, poolSpec(pool), err))
			break
		}
	}
	trashed, err := c.purgeRecorded(ctx, pool, recs)
	failed = append(failed, err)
	stillTrashed := func(n string) bool { return trashed[n] }
	failed = append(failed, c.Settle(ctx, pool, owner, slices.DeleteFunc(settled, stillTrashed)...))
	return slices.DeleteFunc(removed, stillTrashed), errors.Join(failed...)
}

// reapOne removes one recorded name (removed), or finds an intent's image
// complete; a nil error means its record may go.
func (c *Cluster) reapOne(ctx context.Context, pool, name, kind string, last bool,
	hold func(context.Context, string) (func(), error)) (removed bool, err error) {
	if id, ok := strings.CutPrefix(kind, kindClaim); ok {
		if mine, err := c.claimIsStill(ctx, pool, name, id); err != nil || !mine {
			return false, err // gone, or another owner's claim now
		}
	}
	if kind == kindIntent {
		if hold != nil {
			release, err := hold(ctx, name)
			if err != nil {
				return false, err
			}
			defer release()
		}
		kv, err := c.Metadata(ctx, pool, name)
		if err == nil && kv[MetaComplete] != "" {
			return false, nil
		}
		if err != nil && !errors.Is(err, errs.ErrNotFound) {
			return false, err // a complete disk must never go on a failed look
		}
		// Anything else goes, even "not found": a clone cut short may
		// leave a name listed whose header does not open, which Remove
		// copes with (and a name truly gone is success).
	}
	return true, c.Remove(ctx, pool, name, RemoveOptions{Retries: -1, TrashAsLastResort: last})
}

// purgeRecorded purges recorded names from pool's trash and returns those
// still there after (watched: kept recorded for the next start).
func (c *Cluster) purgeRecorded(ctx context.Context, pool string, recs map[string]string) (map[string]bool, error) {
	if ctx.Err() != nil || len(recs) == 0 {
		return nil, nil
	}
	mine := func(e TrashEntry) bool { _, ok := recs[e.Name]; return ok }
	perr := c.purgeTrash(ctx, pool, mine)
	entries, err := c.ListTrash(ctx, pool)
	left := map[string]bool{}
	if err != nil { // unknown: keep every record for the next start
		for n := range recs {
			left[n] = true
		}
	}
	for _, e := range entries {
		if mine(e) {
			left[e.Name] = true
		}
	}
	return left, errors.Join(perr, err)
}
