package api

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/google/uuid"

	"github.com/cowdisk/cowdisk/internal/errs"
	"github.com/cowdisk/cowdisk/internal/imagesvc/auth"
	"github.com/cowdisk/cowdisk/internal/imagesvc/catalog"
	"github.com/cowdisk/cowdisk/internal/imagesvc/store"
)

// DefaultLeaseTTL is how long a replica's lease on an upload or a delete
// lasts unrenewed: after it a dead replica's work is swept by another.
const DefaultLeaseTTL = 60 * time.Second

func replicaDefaults(replica string, ttl time.Duration) (string, time.Duration) {
	if replica == "" {
		replica = uuid.NewString()
	}
	if ttl <= 0 {
		ttl = DefaultLeaseTTL
	}
	return replica, ttl
}

// delete runs in an order that survives a crash at any step and replicas
// racing on one image: claim (pending_delete, under this replica's lease;
// one racer wins, the others get 404 or 409), remove the data, then mark
// the record deleted. A claim left by a dead replica is finished by the
// sweep once its lease expires.
func (s *Server) delete(w http.ResponseWriter, r *http.Request, p auth.Principal) {
	ctx := r.Context()
	img, err := s.lookupWritable(ctx, p, r.PathValue("id"))
	if err == nil {
		img, err = ClaimDelete(ctx, s.cfg.Catalog, img.ID, s.cfg.Replica, s.cfg.LeaseTTL)
	}
	if err == nil {
		// Past the claim the client may go; the delete must still finish.
		err = FinishDelete(context.WithoutCancel(ctx), s.cfg.Catalog, s.cfg.Store, img)
	}
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	s.dropStaged(ctx, img.ID)
	logger(r).Info("image deleted", "image", img.ID)
	w.WriteHeader(http.StatusNoContent)
}

// ClaimDelete marks image id pending_delete under replica's lease. An
// expired claim (its replica died) may be taken over; a live one is a
// conflict.
func ClaimDelete(ctx context.Context, cat catalog.Catalog, id, replica string, ttl time.Duration) (catalog.Image, error) {
	return cat.Update(ctx, id, func(i *catalog.Image) error {
		prev := i.Status
		switch {
		case i.Status == catalog.StatusDeleted:
			return fmt.Errorf("image %s: %w", id, errs.ErrNotFound)
		case i.Protected:
			return fmt.Errorf("image %s is protected: %w", id, errs.ErrPermission)
		case i.Status == catalog.StatusPendingDelete && !i.Lease.Expired(time.Now()):
			return fmt.Errorf("image %s is being deleted: %w", id, errs.ErrConflict)
		case i.Status == catalog.StatusPendingDelete:
			prev = i.Lease.PrevStatus
		}
		i.Lease.Take(replica, ttl, prev)
		i.Status, i.UpdatedAt = catalog.StatusPendingDelete, now()
		return nil
	})
}

// FinishDelete removes the data of an image claimed by ClaimDelete, then
// marks its record deleted. If the store refuses (disks depend on the
// data: 409 with their count), the image goes back to the status it had.
func FinishDelete(ctx context.Context, cat catalog.Catalog, st store.Store, img catalog.Image) error {
	for _, loc := range img.Locations {
		if err := st.Delete(ctx, loc.URL); err != nil {
			_, uerr := cat.Update(ctx, img.ID, func(i *catalog.Image) error {
				if i.Status == catalog.StatusPendingDelete && i.Lease.HeldBy(img.Lease.Owner) {
					i.Status, i.Lease = i.Lease.PrevStatus, catalog.Lease{}
				}
				return nil
			})
			return errors.Join(err, uerr)
		}
	}
	_, err := cat.Update(ctx, img.ID, func(i *catalog.Image) error {
		if i.Status != catalog.StatusPendingDelete || !i.Lease.HeldBy(img.Lease.Owner) {
			return fmt.Errorf("image %s was taken over while being deleted: %w", img.ID, errs.ErrConflict)
		}
		i.Status, i.Locations, i.Lease, i.UpdatedAt = catalog.StatusDeleted, nil, catalog.Lease{}, now()
		return nil
	})
	return err
}
