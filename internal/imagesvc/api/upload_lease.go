package api

import (
	"context"
	"errors"

	"github.com/cowdisk/cowdisk/internal/imagesvc/catalog"
	"github.com/cowdisk/cowdisk/internal/tick"
)

// errLeaseLost ends a heartbeat: the upload is no longer this replica's.
var errLeaseLost = errors.New("upload lease lost")

// claimUpload moves an image from queued to saving under this replica's
// lease and renews the lease until stop is called, so that the sweep of
// another replica (or of one starting up) leaves a live upload alone and
// requeues one whose replica died.
func (s *Server) claimUpload(ctx context.Context, id string) (catalog.Image, func(), error) {
	return s.claimStatus(ctx, id, catalog.StatusQueued, catalog.StatusSaving)
}

// claimStatus moves an image from status from to status to under this
// replica's lease, renewed until stop is called (see claimUpload).
func (s *Server) claimStatus(ctx context.Context, id, from, to string) (catalog.Image, func(), error) {
	img, err := s.cfg.Catalog.Update(ctx, id, func(i *catalog.Image) error {
		if i.Status != from {
			return writableStatus(i)
		}
		i.Status, i.UpdatedAt = to, now()
		i.Lease.Take(s.cfg.Replica, s.cfg.LeaseTTL, from)
		return nil
	})
	if err != nil {
		return img, func() {}, err
	}
	keep := s.keepLease(ctx, id, to, from)
	return img, func() { keep(); s.dropLease(context.WithoutCancel(ctx), id, to) }, nil
}

// dropLease ends this replica's lease on an image still in status (a
// finished stage waits for its import with nobody working on it: a
// restart may then requeue it, as before replicas).
func (s *Server) dropLease(ctx context.Context, id, status string) {
	_, err := s.cfg.Catalog.Update(ctx, id, func(i *catalog.Image) error {
		if i.Status != status || !i.Lease.HeldBy(s.cfg.Replica) {
			return errLeaseLost // finished or taken over: nothing to drop
		}
		i.Lease = catalog.Lease{}
		return nil
	})
	if err != nil && !errors.Is(err, errLeaseLost) {
		s.log.Warn("could not drop a lease", "image", id, "err", err)
	}
}

// keepLease renews this replica's lease on image id while it is in status
// until the returned stop is called.
func (s *Server) keepLease(ctx context.Context, id, status, prev string) (stop func()) {
	hb, cancel := context.WithCancel(context.WithoutCancel(ctx))
	done := make(chan struct{})
	go func() {
		defer close(done)
		s.heartbeat(hb, id, status, prev)
	}()
	return func() { cancel(); <-done }
}

// heartbeat renews the lease every third of its life. A failed renewal
// (catalog briefly down) is retried at the next beat; the lease has two
// more beats' worth of life left.
func (s *Server) heartbeat(ctx context.Context, id, status, prev string) {
	tick.Every(ctx, s.cfg.LeaseTTL/3, func(ctx context.Context) bool {
		_, err := s.cfg.Catalog.Update(ctx, id, func(i *catalog.Image) error {
			if i.Status != status || !i.Lease.HeldBy(s.cfg.Replica) {
				return errLeaseLost
			}
			i.Lease.Take(s.cfg.Replica, s.cfg.LeaseTTL, prev)
			return nil
		})
		if err != nil && !errors.Is(err, errLeaseLost) && ctx.Err() == nil {
			s.log.Warn("could not renew a lease", "image", id, "status", status, "err", err)
		}
		return !errors.Is(err, errLeaseLost)
	})
}
