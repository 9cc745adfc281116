package imagesvc

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/cowdisk/cowdisk/internal/imagesvc/api"
	"github.com/cowdisk/cowdisk/internal/imagesvc/catalog"
	"github.com/cowdisk/cowdisk/internal/imagesvc/staging"
	"github.com/cowdisk/cowdisk/internal/imagesvc/webdownload"
)

// ImportConfig configures Glance's image import and the location policy.
type ImportConfig struct {
	// StagingDir holds staged data (glance-direct); "" turns the method off.
	StagingDir string
	// WebDownloadAllow is the web-download allow-list (see
	// webdownload.Allow); empty turns the method off.
	WebDownloadAllow []string
	// WebDownloadTimeout bounds one download, WebDownloadStall the wait for
	// headers and for each read; zero means the webdownload defaults.
	WebDownloadTimeout, WebDownloadStall time.Duration
	// MaxImports bounds the imports running at once; zero: api.DefaultMaxImports.
	MaxImports int
	// LocationsVisibleToOwner: see api.Config.
	LocationsVisibleToOwner bool
}

// importAPI builds the API's import configuration. Data staged before a
// crash or restart is removed and images left uploading or importing go
// back to queued: an import is not resumed.
func importAPI(ctx context.Context, c ImportConfig, cat catalog.Catalog, storeID string, maxSize int64,
	log *slog.Logger, self string) (
	api.ImportConfig, error) {
	ic := api.ImportConfig{MaxRunning: c.MaxImports}
	if c.StagingDir != "" {
		area, err := staging.New(c.StagingDir)
		if err != nil {
			return ic, err
		}
		removed, err := area.Clear()
		if err != nil {
			return ic, err
		}
		if len(removed) > 0 {
			log.Warn("removed data staged before the restart", "images", removed)
		}
		ic.Staging = area
	}
	if len(c.WebDownloadAllow) > 0 {
		allow, err := webdownload.ParseAllow(c.WebDownloadAllow)
		if err != nil {
			return ic, err
		}
		if ic.WebDownload, err = webdownload.New(webdownload.Options{Allow: allow, MaxSize: maxSize,
			Timeout: c.WebDownloadTimeout, StallTimeout: c.WebDownloadStall}); err != nil {
			return ic, err
		}
	}
	return ic, requeueImports(ctx, cat, storeID, log, self)
}

// requeueImports puts images whose stage or import a restart cut back to
// queued, recording the failure as Glance does. It runs before serving;
// stages and imports other replicas run (their lease is live) are spared;
// this replica's own (self) are dead, as it is only starting.
func requeueImports(ctx context.Context, cat catalog.Catalog, storeID string, log *slog.Logger, self string) error {
	for _, st := range []string{"uploading", "importing"} {
		stuck, err := expired(ctx, cat, st, self) // recover.go
		if err != nil {
			return fmt.Errorf("image service: finding imports cut by a restart: %w", err)
		}
		for _, img := range stuck {
			err := requeueImport(ctx, cat, img.ID, storeID, self)
			if errors.Is(err, errSwept) {
				continue // moved on, or renewed, since it was listed
			}
			if err != nil {
				return err
			}
			log.Warn("import was cut by a restart; image is queued again", "image", img.ID, "was", st)
		}
	}
	return nil
}

func requeueImport(ctx context.Context, cat catalog.Catalog, id, storeID, self string) error {
	_, err := cat.Update(ctx, id, func(i *catalog.Image) error {
		if (i.Status != "uploading" && i.Status != "importing") || !leaseDead(i.Lease, self) {
			return errSwept // no update: a live replica's work keeps its version
		}
		i.Status, i.Lease = catalog.StatusQueued, catalog.Lease{}
		if i.Properties == nil {
			i.Properties = map[string]string{}
		}
		delete(i.Properties, "os_glance_import_task")
		i.Properties["os_glance_importing_to_stores"] = ""
		i.Properties["os_glance_failed_import"] = storeID
		return nil
	})
	if err != nil {
		return fmt.Errorf("image service: resetting image %s: %w", id, err)
	}
	return nil
}
