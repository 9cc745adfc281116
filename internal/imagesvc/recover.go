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
// (no upload can be running yet), and the store removes half-written data.
// This assumes one service per catalog and store, which is how it runs.
func recoverCrash(ctx context.Context, cat catalog.Catalog, st store.Store, log *slog.Logger) error {
	if sw, ok := st.(store.Sweeper); ok {
		removed, err := sw.Sweep(ctx)
		if err != nil {
			return fmt.Errorf("image service: sweeping the store: %w", err)
		}
		if len(removed) > 0 {
			log.Warn("removed data of uploads cut by a crash", "names", removed)
		}
	}
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
