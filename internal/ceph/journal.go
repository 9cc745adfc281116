package ceph

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/ceph/go-ceph/rados"

	"github.com/cowdisk/cowdisk/internal/errs"
)

// The staging journal: every name an owner (a node, a replica) is about to
// create in a pool is recorded, BEFORE the image is created (a publish
// claim: just after, with its id), in the omap of
// one RADOS object per owner, and the record is dropped once the image is
// published or removed. After a crash the owner's reaper (Reap) removes
// exactly the recorded names, so a leftover is found by record, never
// guessed from a name pattern: an image named like a temporary that this
// owner did not record (a hostile image service once got a node to create
// "base_x.tmp-hostC-1") is never touched.
//
// A record is one of three kinds:
//
//	staged    a temporary name (Stage), removed by the reaper unconditionally;
//	intent    a final name being made in place (Intent), removed by the
//	          reaper only when its image lacks MetaComplete (a crash between
//	          the clone and its metadata); a complete or absent image just
//	          drops the record;
//	claim ID  a publish claim this owner holds (Publish), removed by the
//	          reaper only while the claim is still image ID: the name is
//	          every owner's, and a claim another owner made after ours went
//	          must survive our reaper.
const (
	journalPrefix = "cowdisk_journal."
	kindStaged    = "staged"
	kindIntent    = "intent"
	kindClaim     = "claim "
)

// MetaComplete is the image metadata key Complete writes, in one atomic
// write with the image's other keys, on an image made in place under its
// final name: without it the image is a crashed create, which its owner's
// reaper removes.
const MetaComplete = "cowdisk.complete"

var ownerRE = regexp.MustCompile(`^[A-Za-z0-9]{1,64}$`)

// journalObject is the RADOS object holding owner's records in its pool.
func journalObject(owner string) string { return journalPrefix + owner }

func checkOwner(owner string) error {
	if !ownerRE.MatchString(owner) {
		return fmt.Errorf("ceph: journal owner %q: want 1-64 letters or digits: %w", owner, errs.ErrInvalid)
	}
	return nil
}

// Stage spells a fresh temporary name for final, made by owner, and records
// it; the caller then creates the image under that name.
func (c *Cluster) Stage(ctx context.Context, pool, owner, final string) (string, error) {
	name := StageName(final, owner)
	return name, c.record(ctx, pool, owner, name, kindStaged)
}

// Intent records that owner is about to create final itself (a clone made
// in place); the image counts only once Complete has marked it.
func (c *Cluster) Intent(ctx context.Context, pool, owner, final string) error {
	return c.record(ctx, pool, owner, final, kindIntent)
}

// recordClaim records the claim owner just created, with its image id.
func (c *Cluster) recordClaim(ctx context.Context, pool, owner, claim string) error {
	id, err := c.idOf(ctx, pool, claim)
	if err != nil {
		return err
	}
	return c.record(ctx, pool, owner, claim, kindClaim+id)
}

// claimIsStill reports whether pool/claim is still the image id (absent: no).
func (c *Cluster) claimIsStill(ctx context.Context, pool, claim, id string) (bool, error) {
	cur, err := c.idOf(ctx, pool, claim)
	if isNotFound(err) {
		return false, nil
	}
	return cur == id, err
}

// idOf is the image id of pool/name.
func (c *Cluster) idOf(ctx context.Context, pool, name string) (id string, err error) {
	err = c.withPool(ctx, pool, func(io *rados.IOContext) error {
		id, err = imageID(io, name)
		return translate(err, "read the id of", imageSpec(pool, name))
	})
	return id, err
}

func (c *Cluster) record(ctx context.Context, pool, owner, name, kind string) error {
	if err := checkOwner(owner); err != nil {
		return err
	}
	return c.withPool(ctx, pool, func(io *rados.IOContext) error {
		err := io.SetOmap(journalObject(owner), map[string][]byte{name: []byte(kind)})
		return translate(err, "record "+name+" in", journalSpec(pool, owner))
	})
}

// Settle drops the records of names (published or removed). A missing
// journal or record is success.
func (c *Cluster) Settle(ctx context.Context, pool, owner string, names ...string) error {
	if err := checkOwner(owner); err != nil || len(names) == 0 {
		return err
	}
	return c.withPool(ctx, pool, func(io *rados.IOContext) error {
		err := io.RmOmapKeys(journalObject(owner), names)
		if isNotFound(err) {
			return nil
		}
		return translate(err, fmt.Sprintf("settle %v in", names), journalSpec(pool, owner))
	})
}

// Recorded tells whether owner's journal in pool records name (of any
// kind).
func (c *Cluster) Recorded(ctx context.Context, pool, owner, name string) (bool, error) {
	if err := checkOwner(owner); err != nil {
		return false, err
	}
	var ok bool
	err := c.withPool(ctx, pool, func(io *rados.IOContext) error {
		// The key itself is the prefix; the one answer after the key just
		// before it is either name or a longer key.
		kv, err := io.GetOmapValues(journalObject(owner), "", name, 1)
		if isNotFound(err) {
			return nil
		}
		_, ok = kv[name]
		return translate(err, "look up "+name+" in", journalSpec(pool, owner))
	})
	return ok, err
}

// Journal returns owner's records in pool: name -> kind ("staged",
// "intent" or "claim <id>"). A missing journal is empty.
func (c *Cluster) Journal(ctx context.Context, pool, owner string) (map[string]string, error) {
	if err := checkOwner(owner); err != nil {
		return nil, err
	}
	out := map[string]string{}
	err := c.withPool(ctx, pool, func(io *rados.IOContext) error {
		kv, err := io.GetAllOmapValues(journalObject(owner), "", "", 512)
		if isNotFound(err) {
			return nil
		}
		for k, v := range kv {
			out[k] = string(v)
		}
		return translate(err, "read", journalSpec(pool, owner))
	})
	return out, err
}

// DropJournal removes owner's journal object when it records nothing (the
// test clusters' pools are then exactly as they were). ErrInUse when it
// still records names.
func (c *Cluster) DropJournal(ctx context.Context, pool, owner string) error {
	recs, err := c.Journal(ctx, pool, owner)
	if err != nil {
		return err
	}
	if len(recs) > 0 {
		return fmt.Errorf("ceph: %s still records %d names: %w", journalSpec(pool, owner), len(recs), errs.ErrInUse)
	}
	return c.withPool(ctx, pool, func(io *rados.IOContext) error {
		err := io.Delete(journalObject(owner))
		if isNotFound(err) {
			return nil
		}
		return translate(err, "remove", journalSpec(pool, owner))
	})
}

func journalSpec(pool, owner string) string { return "journal " + pool + "/" + journalObject(owner) }

// JournalOwners lists the owners with a journal object in pool (it walks
// every object of the pool: for tests and tools, not for a hot path).
func (c *Cluster) JournalOwners(ctx context.Context, pool string) ([]string, error) {
	var owners []string
	err := c.withPool(ctx, pool, func(io *rados.IOContext) error {
		err := io.ListObjects(func(oid string) {
			if owner, ok := strings.CutPrefix(oid, journalPrefix); ok {
				owners = append(owners, owner)
			}
		})
		return translate(err, "list objects of", poolSpec(pool))
	})
	slices.Sort(owners)
	return owners, err
}
