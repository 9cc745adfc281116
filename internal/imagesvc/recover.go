package imagesvc

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/cowdisk/cowdisk/internal/imagesvc/catalog"
	"github.com/cowdisk/cowdisk/internal/imagesvc/store"
)

// recoverCrash undoes what a crash in the middle of uploads leaves, before
// the service accepts requests: images stuck in saving go back to queued
// (no upload can be running yet), and a store that can sweep quickly
// (store.Sweeper, not SlowSweeper) removes half-written data. A
// store.SlowSweeper is swept by the background start-up (see connectRBD).
// This assumes one service per catalog and store, which is how it runs.
func recoverCrash(ctx context.Context, cat catalog.Catalog, st store.Store, log *slog.Logger) error {
	if _, slow := st.(store.SlowSweeper); !slow {
		if sw, ok := st.(store.Sweeper); ok {
			removed, err := sw.Sweep(ctx)
			if err != nil {
				return fmt.Errorf("image service: sweeping the store: %w", err)
			}
			logSweep(log, removed, nil)
		}
	}
	return requeue(ctx, cat, log)
}

func logSweep(log *slog.Logger, removed []string, err error) {
	if len(removed) > 0 {
		log.Warn("removed data of uploads cut by a crash", "names", removed)
	}
	if err != nil {
		log.Error("could not remove all data of uploads cut by a crash", "err", err)
	}
}

// requeue puts images left saving back to queued, so they can be uploaded
// again. It is quick (catalog only) and must finish before serving: no
// upload may be running when it runs.
func requeue(ctx context.Context, cat catalog.Catalog, log *slog.Logger) error {
	for {
		stuck, err := cat.List(ctx, catalog.Filter{Admin: true, Status: catalog.StatusSaving, Limit: 100})
		if err != nil {
			return fmt.Errorf("image service: finding uploads cut by a crash: %w", err)
		}
		if len(stuck) == 0 {
			return nil
		}
		for _, img := range stuck {
			_, err := cat.Update(ctx, img.ID, func(i *catalog.Image) error {
				i.Status = catalog.StatusQueued
				return nil
			})
			if err != nil {
				return fmt.Errorf("image service: resetting image %s: %w", img.ID, err)
			}
			log.Warn("upload was cut by a crash; image is queued again", "image", img.ID)
		}
	}
}
