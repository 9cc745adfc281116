package rbdstore

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/google/uuid"

	"github.com/cowdisk/cowdisk/internal/ceph"
	"github.com/cowdisk/cowdisk/internal/errs"
)

// Sweep implements store.Sweeper: it removes temporary images of uploads
// cut by a crash before ceph.Import could abort them (Leftovers, then
// RemoveLeftovers).
func (s *Store) Sweep(ctx context.Context) ([]string, error) {
	names, err := s.Leftovers(ctx)
	if err != nil {
		return nil, err
	}
	return s.RemoveLeftovers(ctx, names)
}

// LeftoverImageID is the image id whose upload made the temporary name
// ("" for names that are no temporary of this store), so a sweep can
// spare the uploads live replicas are running.
func LeftoverImageID(name string) string {
	if !isLeftover(name) {
		return ""
	}
	return ceph.FinalName(name)
}

// isLeftover tells this store's temporaries: only temporaries of image ids
// (UUIDs) are touched, as the pool may hold other tools' images.
func isLeftover(name string) bool {
	_, err := uuid.Parse(ceph.FinalName(name))
	return err == nil && ceph.IsTemp(name)
}

// Leftovers implements store.SlowSweeper: this store's temporary images.
func (s *Store) Leftovers(ctx context.Context) ([]string, error) {
	names, err := s.c.ListImages(ctx, s.cfg.Pool)
	if err != nil {
		return nil, fmt.Errorf("rbd store: %w", err)
	}
	var out []string
	for _, n := range names {
		if isLeftover(n) {
			out = append(out, n)
		}
	}
	return out, nil
}

// sweepRemove waits out a killed writer's watch (~30 s) before trashing:
// a leftover moved to the trash at once would stay there, watched.
var sweepRemove = ceph.RemoveOptions{Retries: 12, Interval: 5 * time.Second, TrashAsLastResort: true}

// RemoveLeftovers implements store.SlowSweeper: it removes names, then
// purges this store's temporaries from the trash (where an earlier start,
// or a busy abort, put them). It carries on past a failed name and reports
// every failure.
func (s *Store) RemoveLeftovers(ctx context.Context, names []string) ([]string, error) {
	var removed []string
	var all []error
	for _, n := range names {
		if err := s.c.Remove(ctx, s.cfg.Pool, n, sweepRemove); err != nil {
			all = append(all, err)
			continue
		}
		removed = append(removed, n)
	}
	if err := s.c.TrashPurgeMatching(ctx, s.cfg.Pool, isLeftover); err != nil {
		all = append(all, err)
	}
	if err := errors.Join(all...); err != nil {
		return removed, fmt.Errorf("rbd store: %w", err)
	}
	return removed, nil
}

// removeSnapless removes an image named id that has no snapshot: what a
// crash between import and snapshot leaves. The catalog lets one upload
// at a time claim id, so nobody else can be writing it; without this the
// image could never be uploaded again (Import refuses a taken name).
func (s *Store) removeSnapless(ctx context.Context, id string) error {
	exists, err := s.c.Exists(ctx, s.cfg.Pool, id, "")
	if err != nil || !exists {
		return err
	}
	if ok, err := s.c.Exists(ctx, s.cfg.Pool, id, SnapName); err != nil || ok {
		if ok {
			return fmt.Errorf("rbd store: image %s/%s already holds data: %w", s.cfg.Pool, id, errs.ErrExists)
		}
		return err
	}
	slog.Warn("rbd store: removing an image left without its snapshot by a crash", "pool", s.cfg.Pool, "image", id)
	return s.c.Remove(ctx, s.cfg.Pool, id, s.cfg.Remove)
}
