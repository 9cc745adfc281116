package rbdstore

import (
	"context"
	"fmt"

	"github.com/cowdisk/cowdisk/internal/errs"
	"github.com/cowdisk/cowdisk/internal/imagesvc/store"
)

var _ store.LocationChecker = (*Store)(nil)

// CheckLocation implements store.LocationChecker with the node's own
// allow-list: this cluster's fsid, the store's pool, the image named by the
// image id, snapshot "snap", and the snapshot exists. The size is the
// snapshot's.
func (s *Store) CheckLocation(ctx context.Context, id, location string) (int64, error) {
	l, err := s.locate(location)
	if err != nil {
		return 0, err
	}
	if l.Image != id {
		return 0, fmt.Errorf("rbd store: location %s names image %q, not the image id %s: %w",
			location, l.Image, id, errs.ErrBadLocation)
	}
	ok, err := s.c.Exists(ctx, l.Pool, l.Image, l.Snapshot)
	if err != nil {
		return 0, fmt.Errorf("rbd store: %w", err)
	}
	if !ok {
		return 0, fmt.Errorf("rbd store: snapshot %s/%s@%s does not exist: %w", l.Pool, l.Image, l.Snapshot,
			errs.ErrBadLocation)
	}
	r, err := s.c.OpenReader(ctx, l.Pool, l.Image, l.Snapshot)
	if err != nil {
		return 0, fmt.Errorf("rbd store: %w", err)
	}
	defer r.Close()
	return r.Size(), nil
}
