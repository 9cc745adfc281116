package api

import (
	"context"
	"errors"
	"time"

	"github.com/cowdisk/cowdisk/internal/imagesvc/catalog"
)

// errLeaseLost ends a heartbeat: the upload is no longer this replica's.
var errLeaseLost = errors.New("upload lease lost")

// claimUpload moves an image from queued to saving under this replica's
// lease and renews the lease until stop is called, so that the sweep of
// another replica (or of one starting up) leaves a live upload alone and
// requeues one whose replica died.
func (s *Server) claimUpload(ctx context.Context, id string) (catalog.Image, func(), error) {
	img, err := s.cfg.Catalog.Update(ctx, id, func(i *catalog.Image) error {
		if i.Status != catalog.StatusQueued {
			return writableStatus(i)
		}
		i.Status, i.UpdatedAt = catalog.StatusSaving, now()
		i.Lease.Take(s.cfg.Replica, s.cfg.LeaseTTL, catalog.StatusQueued)
		return nil
	})
	if err != nil {
		return img, func() {}, err
	}
	hb, cancel := context.WithCancel(context.WithoutCancel(ctx))
	done := make(chan struct{})
	go func() {
		defer close(done)
		s.heartbeat(hb, id)
	}()
	return img, func() { cancel(); <-done }, nil
}

// heartbeat renews the upload lease every third of its life. A failed
// renewal (catalog briefly down) is retried at the next beat; the lease
// has two more beats' worth of life left.
func (s *Server) heartbeat(ctx context.Context, id string) {
	t := time.NewTicker(s.cfg.LeaseTTL / 3)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		_, err := s.cfg.Catalog.Update(ctx, id, func(i *catalog.Image) error {
			if i.Status != catalog.StatusSaving || !i.Lease.HeldBy(s.cfg.Replica) {
				return errLeaseLost
			}
			i.Lease.Take(s.cfg.Replica, s.cfg.LeaseTTL, catalog.StatusQueued)
			return nil
		})
		if errors.Is(err, errLeaseLost) {
			return
		}
		if err != nil && ctx.Err() == nil {
			s.log.Warn("could not renew an upload's lease", "image", id, "err", err)
		}
	}
}
