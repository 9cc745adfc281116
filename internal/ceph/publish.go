package ceph

import (
	"context"
	"errors"
	"fmt"

	"github.com/cowdisk/cowdisk/internal/errs"
)

// Publish renames the complete image staged to final in pool; errs.ErrExists
// when final is taken. The caller removes staged on failure (Discard) and
// settles its record on success.
//
// librbd's rename is not exclusive: two renames onto one name at once both
// succeed and leave the pool inconsistent (TestClusterTwoNodesOneBase caught
// it); its create is. So where owners can race for final (a base every node
// may make: claimant is the publishing owner), the publisher first creates
// ClaimName(final) and renames only while it holds that claim and final is
// still absent; a loser gets errs.ErrExists. The claim is recorded in the
// claimant's journal with its image id right after it is made, so a crash
// while holding it leaves nothing the claimant's reaper does not remove
// (but for the one write between the create and the record). Where final has one writer
// (claimant "": a disk, under the provisioner's disk lock; an upload,
// claimed in the catalog) a plain rename is exact and one round trip.
func (c *Cluster) Publish(ctx context.Context, pool, staged, final, claimant string) (err error) {
	if claimant == "" {
		return c.Rename(ctx, pool, staged, final)
	}
	claim, err := c.takeClaim(ctx, pool, claimant, final)
	if err != nil {
		return err
	}
	defer func() { c.DiscardRecorded(ctx, pool, claimant, claim, err) }()
	// final may have been published between the caller's look and our claim.
	if ok, err := c.Exists(ctx, pool, final, ""); err != nil || ok {
		if err != nil {
			return err
		}
		return fmt.Errorf("ceph: publish %s: %w", imageSpec(pool, final), errs.ErrExists)
	}
	return c.Rename(ctx, pool, staged, final)
}

// takeClaim creates final's claim and records it in claimant's journal
// with its id (a claim it cannot record goes at once).
func (c *Cluster) takeClaim(ctx context.Context, pool, claimant, final string) (string, error) {
	claim := ClaimName(final)
	if err := c.CreateImage(ctx, pool, claim, 0, ImageOptions{}); err != nil {
		if errors.Is(err, errs.ErrExists) {
			return "", fmt.Errorf("ceph: publish %s: another owner is publishing it: %w", imageSpec(pool, final), err)
		}
		return "", err
	}
	if err := c.recordClaim(ctx, pool, claimant, claim); err != nil {
		c.Discard(ctx, pool, claim, err)
		return "", err
	}
	return claim, nil
}
