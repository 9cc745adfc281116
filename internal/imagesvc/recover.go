package imagesvc

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"time"

	"github.com/google/uuid"

	"github.com/cowdisk/cowdisk/internal/imagesvc/api"
	"github.com/cowdisk/cowdisk/internal/imagesvc/catalog"
	"github.com/cowdisk/cowdisk/internal/imagesvc/store"
	"github.com/cowdisk/cowdisk/internal/imagesvc/store/rbdstore"
	"github.com/cowdisk/cowdisk/internal/tick"
)

// recoverCrash undoes what a crash in the middle of uploads leaves, before
// the service accepts requests: images left saving by a replica whose
// lease has expired go back to queued, and a store that can sweep quickly
// (store.Sweeper, not SlowSweeper: the file store, one host) removes
// half-written data. A store.SlowSweeper (RBD) is swept in the background
// (connectRBD), sparing the temporaries of uploads live replicas run.
//
// self is this replica's name: at start nothing it holds can be live, so
// its own leases count as dead however long they had to run (a service
// killed mid-upload and started again must not wait out its own lease).
func recoverCrash(ctx context.Context, cat catalog.Catalog, st store.Store, log *slog.Logger, self string) error {
	if _, slow := st.(store.SlowSweeper); !slow {
		if sw, ok := st.(store.Sweeper); ok {
			removed, err := sw.Sweep(ctx)
			if err != nil {
				return fmt.Errorf("image service: sweeping the store: %w", err)
			}
			logSweep(log, removed, nil)
		}
	}
	_, err := requeue(ctx, cat, log, self)
	return err
}

// leaseDead reports whether l's work is over: expired, or held by self
// (a name given only at start, when none of this replica's work is live).
func leaseDead(l catalog.Lease, self string) bool {
	return l.Expired(time.Now()) || (self != "" && l.Owner == self)
}

func logSweep(log *slog.Logger, removed []string, err error) {
	if len(removed) > 0 {
		log.Warn("removed data of uploads cut by a crash", "names", removed)
	}
	if err != nil {
		log.Error("could not remove all data of uploads cut by a crash", "err", err)
	}
}

// sweepBatch bounds how many records one sweep round looks at per status.
const sweepBatch = 1000

// expired lists up to sweepBatch images in status whose lease is dead.
func expired(ctx context.Context, cat catalog.Catalog, status, self string) ([]catalog.Image, error) {
	page, err := cat.List(ctx, catalog.Filter{Admin: true, Status: status, Limit: sweepBatch})
	if err != nil {
		return nil, fmt.Errorf("image service: finding %s images: %w", status, err)
	}
	var out []catalog.Image
	for _, img := range page {
		if leaseDead(img.Lease, self) {
			out = append(out, img)
		}
	}
	return out, nil
}

// requeue puts images left saving by a dead replica (lease expired, or
// none: a single service that crashed) back to queued, so they can be
// uploaded again. It returns their ids.
func requeue(ctx context.Context, cat catalog.Catalog, log *slog.Logger, self string) (map[string]bool, error) {
	stuck, err := expired(ctx, cat, catalog.StatusSaving, self)
	if err != nil {
		return nil, err
	}
	ids := map[string]bool{}
	for _, img := range stuck {
		_, err := cat.Update(ctx, img.ID, func(i *catalog.Image) error {
			if i.Status != catalog.StatusSaving || !leaseDead(i.Lease, self) {
				return errSwept // renewed or finished meanwhile
			}
			i.Status, i.Lease = catalog.StatusQueued, catalog.Lease{}
			return nil
		})
		if errors.Is(err, errSwept) {
			continue
		}
		if err != nil {
			return ids, fmt.Errorf("image service: resetting image %s: %w", img.ID, err)
		}
		ids[img.ID] = true
		log.Warn("upload was cut by a crash; image is queued again", "image", img.ID)
	}
	return ids, nil
}

var errSwept = errors.New("no longer to sweep")

// finishDeletes completes deletes whose replica died after claiming them.
func finishDeletes(ctx context.Context, cat catalog.Catalog, st store.Store, replica string, ttl time.Duration,
	log *slog.Logger) error {
	cut, err := expired(ctx, cat, catalog.StatusPendingDelete, "")
	if err != nil {
		return err
	}
	var all []error
	for _, img := range cut {
		claimed, err := api.ClaimDelete(ctx, cat, img.ID, replica, ttl)
		if err == nil {
			err = api.FinishDelete(ctx, cat, st, claimed)
		}
		if err != nil {
			all = append(all, err)
			continue
		}
		log.Warn("finished a delete cut by a crash", "image", img.ID)
	}
	return errors.Join(all...)
}

// sweepLeases is one round of the periodic sweep every replica runs:
// uploads and deletes of dead replicas are undone or finished, and the
// RBD temporaries of those uploads removed.
func (s *Service) sweepLeases(ctx context.Context, st store.Store, replica string, ttl time.Duration) {
	ids, err := requeue(ctx, s.cat, s.log, "")
	if err == nil {
		err = finishDeletes(ctx, s.cat, st, replica, ttl, s.log)
	}
	if slow, ok := slowSweeper(st); ok && len(ids) > 0 {
		names, lerr := slow.Leftovers(ctx)
		var mine []string
		for _, n := range names {
			if ids[rbdstore.LeftoverImageID(n)] {
				mine = append(mine, n)
			}
		}
		removed, rerr := slow.RemoveLeftovers(ctx, mine)
		logSweep(s.log, removed, errors.Join(lerr, rerr))
	}
	if err != nil && ctx.Err() == nil {
		s.log.Warn("sweep of dead replicas' work", "err", err)
	}
}

// sweepEvery runs sweepLeases every half lease until ctx ends.
func (s *Service) sweepEvery(ctx context.Context, st store.Store, replica string, ttl time.Duration) {
	tick.Every(ctx, ttl/2, func(ctx context.Context) bool {
		s.sweepLeases(ctx, st, replica, ttl)
		return true
	})
}

// deadLeftovers keeps the temporaries no live replica is writing: those
// of images not saving under a live lease.
func (s *Service) deadLeftovers(ctx context.Context, names []string) []string {
	var out []string
	for _, n := range names {
		img, err := s.cat.Get(ctx, rbdstore.LeftoverImageID(n))
		if err == nil && img.Status == catalog.StatusSaving && !leaseDead(img.Lease, s.replica) {
			continue
		}
		out = append(out, n)
	}
	return out
}

// slowSweeper is st's SlowSweeper, looking through a connecting RBD store.
func slowSweeper(st store.Store) (store.SlowSweeper, bool) {
	if p, ok := st.(*pendingStore); ok {
		r, err := p.get()
		return r, err == nil
	}
	sw, ok := st.(store.SlowSweeper)
	return sw, ok
}

// catalogReady fails while the catalog's database cannot be reached (a
// PostgreSQL catalog down), so a load balancer stops sending requests
// here; requests meanwhile get 503 with the reason, and the pool
// reconnects on its own.
func (s *Service) catalogReady(ctx context.Context) error {
	p, ok := s.cat.(interface{ Ping(context.Context) error })
	if !ok {
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	return p.Ping(ctx)
}

// defaultReplica names a replica after its host, listen address and
// catalog, so the same service started again knows its own leases (and
// sweeps them at once), while two replicas on one host still differ. A
// service on an ephemeral port (":0", tests) has no lasting identity and
// gets a random name.
func defaultReplica(cfg Config) string {
	if _, port, err := net.SplitHostPort(cfg.Listen); err != nil || port == "0" {
		return uuid.NewString()
	}
	host, _ := os.Hostname()
	sum := sha256.Sum256([]byte(cfg.Listen + "\x00" + cfg.DB))
	return fmt.Sprintf("%s-%x", host, sum[:6])
}
