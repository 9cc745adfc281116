package api

import (
	"context"
	"crypto/md5"
	"crypto/sha512"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"mime"
	"net/http"
	"strconv"
	"time"

	chunks "github.com/cowdisk/cowdisk/internal/chunklist"
	"github.com/cowdisk/cowdisk/internal/errs"
	"github.com/cowdisk/cowdisk/internal/imagesvc/auth"
	"github.com/cowdisk/cowdisk/internal/imagesvc/catalog"
	"github.com/cowdisk/cowdisk/internal/imagesvc/store"
)

// declaredSize reads x-openstack-image-size and Content-Length; -1 when
// neither is given (a chunked upload). Both given and different is refused.
func declaredSize(r *http.Request) (int64, error) {
	size := r.ContentLength // -1 for chunked bodies
	if v := r.Header.Get("X-Openstack-Image-Size"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 0 {
			return 0, fmt.Errorf("x-openstack-image-size %q: %w", v, errs.ErrInvalid)
		}
		if size >= 0 && size != n {
			return 0, fmt.Errorf("x-openstack-image-size %d differs from Content-Length %d: %w", n, size, errs.ErrInvalid)
		}
		size = n
	}
	return size, nil
}

// limitedBody fails the upload as soon as more than max bytes arrive, so an
// endless chunked body cannot fill the store.
type limitedBody struct {
	r        io.Reader
	n, max   int64
	declared bool
}

func (l *limitedBody) Read(p []byte) (int, error) {
	n, err := l.r.Read(p)
	l.n += int64(n)
	if l.n > l.max {
		if l.declared {
			return n, fmt.Errorf("more data than the declared %d bytes: %w", l.max, errs.ErrChecksum)
		}
		return n, statusErr(http.StatusRequestEntityTooLarge, "image larger than the limit of %d bytes", l.max)
	}
	return n, err
}

func (s *Server) upload(w http.ResponseWriter, r *http.Request, p auth.Principal) {
	start := time.Now()
	img, err := s.receive(r, p)
	if err != nil {
		s.metrics.uploads.WithLabelValues(strconv.Itoa(status(err))).Inc()
		s.writeError(w, r, err)
		return
	}
	s.metrics.uploads.WithLabelValues("ok").Inc()
	s.metrics.uploaded.Add(float64(*img.Size))
	el := time.Since(start)
	logger(r).Info("image uploaded", "image", img.ID, "bytes", *img.Size, "duration", el,
		"MiB_per_s", float64(*img.Size)/(1<<20)/max(el.Seconds(), 1e-9))
	w.WriteHeader(http.StatusNoContent)
}

// receive runs one upload: claim the image (queued -> saving), stream the
// body through inspection and hashing into the store, check, and publish
// (saving -> active). Every failure after the claim removes the stored data
// and puts the image back to queued, so it can be uploaded again.
func (s *Server) receive(r *http.Request, p auth.Principal) (catalog.Image, error) {
	ctx := r.Context()
	img, err := s.lookupWritable(ctx, p, r.PathValue("id"))
	if err != nil {
		return img, err
	}
	if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt != "application/octet-stream" {
		return img, statusErr(http.StatusUnsupportedMediaType, "upload needs Content-Type application/octet-stream")
	}
	size, err := declaredSize(r)
	if err != nil {
		return img, err
	}
	if size > s.cfg.MaxImageSize {
		return img, statusErr(http.StatusRequestEntityTooLarge, "declared size %d exceeds the limit of %d bytes",
			size, s.cfg.MaxImageSize)
	}
	if img.DiskFormat == nil || img.ContainerFormat == nil {
		return img, fmt.Errorf("set disk_format and container_format before uploading: %w", errs.ErrInvalid)
	}
	release, err := s.reserveStorage(ctx, r, img.Owner, size)
	if err != nil {
		return img, err
	}
	defer release() // after the image is active or back to queued
	var stop func()
	if img, stop, err = s.claimUpload(ctx, img.ID); err != nil {
		return img, err
	}
	defer stop() // the lease is renewed until the image is active or queued again
	res, sums, vsize, err := s.stream(ctx, r.Body, img, size)
	// From here the client may be gone; clean-up must still run.
	bg := context.WithoutCancel(ctx)
	if err == nil {
		img, err = s.cfg.Catalog.Update(bg, img.ID, func(i *catalog.Image) error {
			if i.Status != catalog.StatusSaving { // deleted while we were writing
				return statusErr(http.StatusGone, "image %s was %s during the upload", i.ID, i.Status)
			}
			i.Status, i.Size, i.VirtualSize, i.UpdatedAt = catalog.StatusActive, &res.Size, vsize, now()
			i.Lease = catalog.Lease{}
			sums.apply(i, res.Size)
			i.Locations = []catalog.Location{{URL: res.Location, Metadata: res.Metadata}}
			return nil
		})
		if err != nil {
			if derr := s.cfg.Store.Delete(bg, res.Location); derr != nil {
				logger(r).Error("stored data left behind", "image", img.ID, "location", res.Location, "err", derr)
			}
		}
	}
	if err != nil {
		if _, qerr := s.setStatus(bg, img.ID, catalog.StatusSaving, catalog.StatusQueued); qerr != nil &&
			!errors.Is(qerr, errs.ErrConflict) && status(qerr) != http.StatusGone {
			logger(r).Error("image left in saving", "image", img.ID, "err", qerr)
		}
	}
	return img, err
}

// stream writes the body into the store and returns the stored result,
// the digests of the data, and the virtual size. Data that fails a check
// after it was stored is deleted again.
func (s *Server) stream(ctx context.Context, body io.Reader, img catalog.Image, size int64) (
	store.Result, digests, *int64, error) {
	limit := &limitedBody{r: body, max: s.cfg.MaxImageSize}
	if size >= 0 {
		limit.max, limit.declared = size, true
	}
	insp := s.cfg.NewInspection()
	res, sums, err := s.put(ctx, img.ID, limit, size, insp)
	if err != nil {
		return res, sums, nil, fmt.Errorf("upload of image %s: %w", img.ID, uploadErr(err))
	}
	vsize, err := verdict(insp, res.Size, *img.DiskFormat)
	if err == nil && size >= 0 && res.Size != size {
		err = fmt.Errorf("received %d bytes, %d declared: %w", res.Size, size, errs.ErrChecksum)
	}
	if err != nil {
		if derr := s.cfg.Store.Delete(context.WithoutCancel(ctx), res.Location); derr != nil {
			err = fmt.Errorf("%w (and removing the data failed: %v)", err, derr)
		}
		return res, sums, nil, fmt.Errorf("upload of image %s: %w", img.ID, err)
	}
	return res, sums, vsize, nil
}

// put streams r through the inspection into the store and computes md5,
// sha512 and the chunk list on the way, each on a goroutine of its own:
// inside the store's pipeline when it has one (rbdstore), else beside each
// write. A store that hashes but takes no tees (the staging area, whose
// sums are dropped) gets no chunk list.
func (s *Server) put(ctx context.Context, id string, r io.Reader, size int64, insp Inspection) (
	store.Result, digests, error) {
	src := io.TeeReader(r, insp)
	var sums digests
	if h, ok := s.cfg.Store.(store.Hasher); ok && h.HashesData() {
		var res store.Result
		var err error
		if t, ok := s.cfg.Store.(store.Teeing); ok {
			dig := chunks.NewDigester(size)
			res, err = t.PutTee(ctx, id, src, size, []io.Writer{dig})
			sums.chunks = digesterChunks(dig)
		} else {
			res, err = s.cfg.Store.Put(ctx, id, src, size)
		}
		sums.md5, sums.sha512 = res.MD5, res.SHA512
		return res, sums, err
	}
	md, sh, dig := md5.New(), sha512.New(), chunks.NewDigester(size)
	res, err := s.cfg.Store.Put(ctx, id, io.TeeReader(r, newParallelWriter(insp, md, sh, dig)), size)
	sums.md5, sums.sha512, sums.chunks = hexSum(md), hexSum(sh), digesterChunks(dig)
	return res, sums, err
}

// verdict is the inspection's judgement of the stored data. Empty data is
// no image format at all, yet Glance takes it (any disk_format: 204, active,
// size 0, virtual_size null), so it is not inspected. No disk can be made of
// it: the node's inspector refuses empty data and librbd refuses to clone an
// empty snapshot.
func verdict(insp Inspection, size int64, diskFormat string) (*int64, error) {
	if size == 0 {
		return nil, nil
	}
	v, err := insp.Verdict(diskFormat)
	if err != nil {
		return nil, err
	}
	return &v, nil
}

// uploadErr turns a cut body (client gone, short chunked body) into a 400;
// net/http reports those as io.ErrUnexpectedEOF.
func uploadErr(err error) error {
	if errors.Is(err, io.ErrUnexpectedEOF) {
		return fmt.Errorf("%v: body ended early: %w", err, errs.ErrInvalid)
	}
	return err
}

func hexSum(h hash.Hash) string { return hex.EncodeToString(h.Sum(nil)) }

// setStatus moves an image from one status to another atomically.
func (s *Server) setStatus(ctx context.Context, id, from, to string) (catalog.Image, error) {
	return s.cfg.Catalog.Update(ctx, id, func(i *catalog.Image) error {
		if i.Status != from {
			return fmt.Errorf("image %s is %s, not %s: %w", id, i.Status, from, errs.ErrConflict)
		}
		i.Status, i.UpdatedAt = to, now()
		return nil
	})
}
