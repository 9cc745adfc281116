package api

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/cowdisk/cowdisk/internal/errs"
	"github.com/cowdisk/cowdisk/internal/imagesvc/catalog"
	"github.com/cowdisk/cowdisk/internal/imagesvc/store"
)

// importSource opens the data of an import: the staged file or the
// download. size is the declared length or -1.
func (s *Server) importSource(ctx context.Context, id, method, uri string) (io.ReadCloser, int64, error) {
	if method == methodWeb {
		b, err := s.cfg.Import.WebDownload.Open(ctx, uri)
		if err != nil {
			return nil, 0, err
		}
		return b, b.Size, nil
	}
	loc, err := s.cfg.Import.Staging.Location(id)
	if err != nil {
		return nil, 0, err
	}
	obj, err := s.cfg.Import.Staging.Open(ctx, loc)
	if err != nil {
		return nil, 0, fmt.Errorf("staged data of image %s: %w", id, err)
	}
	return readCloser{io.NewSectionReader(obj, 0, obj.Size()), obj}, obj.Size(), nil
}

type readCloser struct {
	io.Reader
	io.Closer
}

// runImport moves the data into the store through the upload's streaming
// (bounds, inspection, hashes) and publishes the image, or puts it back to
// queued with the failure recorded. Staged data is removed either way.
// When ctx ends (shutdown) the transfer stops; the clean-up still runs.
func (s *Server) runImport(ctx context.Context, img catalog.Image, method, uri, task string) {
	src, size, err := s.importSource(ctx, img.ID, method, uri)
	var res store.Result
	var sums digests
	var vsize *int64
	release := func() {}
	if err == nil {
		// Imported data counts against the owner's storage quota as
		// uploaded data does, held until the image is published or requeued.
		var body io.ReadCloser
		var rel func()
		if body, rel, err = s.reserveFor(ctx, img.Owner, size, src); err != nil {
			src.Close()
		} else {
			release = rel
			res, sums, vsize, err = s.stream(ctx, body, img, size)
			body.Close()
		}
	}
	defer release()
	bg := context.WithoutCancel(ctx)
	s.dropStaged(bg, img.ID)
	if err == nil {
		err = s.publishImport(bg, img.ID, task, res, sums, vsize)
	}
	if err != nil {
		s.log.Warn("image import failed", "image", img.ID, "method", method, "task", task, "err", err)
		s.requeue(bg, img.ID, statusImporting, task)
		return
	}
	s.log.Info("image imported", "image", img.ID, "method", method, "task", task, "bytes", res.Size)
}

// publishImport makes the imported image active, unless it was deleted or
// its import taken over meanwhile; then the stored data is removed again.
func (s *Server) publishImport(ctx context.Context, id, task string, res store.Result, sums digests,
	vsize *int64) error {
	_, err := s.cfg.Catalog.Update(ctx, id, func(i *catalog.Image) error {
		if i.Status != statusImporting || i.Properties[propTask] != task {
			return fmt.Errorf("image %s became %s during the import: %w", id, i.Status, errs.ErrConflict)
		}
		i.Status, i.Size, i.VirtualSize, i.UpdatedAt = catalog.StatusActive, &res.Size, vsize, now()
		sums.apply(i, res.Size)
		i.Locations = []catalog.Location{{URL: res.Location, Metadata: res.Metadata}}
		endTask(i, "")
		return nil
	})
	if err != nil {
		if derr := s.cfg.Store.Delete(ctx, res.Location); derr != nil {
			err = errors.Join(err, fmt.Errorf("stored data left behind at %s: %w", res.Location, derr))
		}
	}
	return err
}

// dropStaged removes the staged data of image id, if any (after an import,
// and when the image is deleted).
func (s *Server) dropStaged(ctx context.Context, id string) {
	area := s.cfg.Import.Staging
	if area == nil {
		return
	}
	loc, err := area.Location(id)
	if err == nil {
		err = area.Delete(ctx, loc)
	}
	if err != nil {
		s.log.Error("staged data left behind", "image", id, "err", err)
	}
}
