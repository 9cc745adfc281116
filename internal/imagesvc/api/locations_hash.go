package api

import (
	"context"
	"crypto/md5"
	"crypto/sha512"
	"fmt"
	"io"

	"github.com/cowdisk/cowdisk/internal/errs"
	"github.com/cowdisk/cowdisk/internal/imagesvc/catalog"
	"github.com/cowdisk/cowdisk/internal/imagesvc/store"
)

// hashLocation computes the checksum and os_hash_value that
// validation_data did not give for data added by location, as Glance's
// do_secure_hash does, in
// the background: the image is usable (active) meanwhile, and a shutdown
// cuts the read.
func (s *Server) hashLocation(ctx context.Context, id, location string) {
	sums, err := s.hashData(ctx, location)
	if err == nil {
		_, err = s.cfg.Catalog.Update(context.WithoutCancel(ctx), id, func(i *catalog.Image) error {
			if i.Status != catalog.StatusActive || len(i.Locations) != 1 || i.Locations[0].URL != location {
				return fmt.Errorf("image %s changed while its data was hashed: %w", id, errs.ErrConflict)
			}
			// Hashes the caller gave in validation_data stay as given.
			if i.Checksum == nil {
				i.Checksum = &sums[0]
			}
			if i.OSHashValue == nil {
				algo := "sha512"
				i.OSHashAlgo, i.OSHashValue = &algo, &sums[1]
			}
			return nil
		})
	}
	if err != nil {
		s.log.Warn("hashing the data of an added location failed; the image has no checksum", "image", id, "err", err)
		return
	}
	s.log.Info("hashed the data of an added location", "image", id)
}

func (s *Server) hashData(ctx context.Context, location string) ([2]string, error) {
	var sums [2]string
	obj, err := s.cfg.Store.Open(ctx, location)
	if err != nil {
		return sums, err
	}
	defer obj.Close()
	md, sh := md5.New(), sha512.New()
	r := io.NewSectionReader(obj, 0, obj.Size())
	if _, err := io.CopyBuffer(newParallelWriter(md, sh), store.ContextReader{Ctx: ctx, R: r}, make([]byte, 4<<20)); err != nil {
		return sums, err
	}
	sums[0], sums[1] = hexSum(md), hexSum(sh)
	return sums, nil
}
