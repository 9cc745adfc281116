package rbdstore

import (
	"context"
	"fmt"
	"log/slog"
	"strings"

	"github.com/google/uuid"

	"github.com/cowdisk/cowdisk/internal/ceph"
	"github.com/cowdisk/cowdisk/internal/errs"
)

// Sweep implements store.Sweeper: it removes temporary images of uploads
// cut by a crash before ceph.Import could abort them. Only temporaries of
// image ids (UUIDs) are touched: the pool may hold other tools' images.
func (s *Store) Sweep(ctx context.Context) ([]string, error) {
	names, err := s.c.ListImages(ctx, s.cfg.Pool)
	if err != nil {
		return nil, fmt.Errorf("rbd store: %w", err)
	}
	var removed []string
	for _, n := range names {
		base, _, _ := strings.Cut(n, ".tmp-")
		if _, err := uuid.Parse(base); err != nil || !ceph.IsTemp(n) {
			continue
		}
		if err := s.c.Remove(ctx, s.cfg.Pool, n, s.cfg.Remove); err != nil {
			return removed, fmt.Errorf("rbd store: %w", err)
		}
		removed = append(removed, n)
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
