package api

import (
	"fmt"
	"net/http"
	"slices"
	"unicode/utf8"

	"github.com/cowdisk/cowdisk/internal/errs"
	"github.com/cowdisk/cowdisk/internal/imagesvc/auth"
	"github.com/cowdisk/cowdisk/internal/imagesvc/catalog"
)

// addTag is PUT /v2/images/{id}/tags/{tag}: 204, also when the image has
// the tag already (tags are a set). As in Glance a tag longer than the
// schema's 255 characters is 400 and one past the quota of 128 is 413.
func (s *Server) addTag(w http.ResponseWriter, r *http.Request, p auth.Principal) {
	tag := r.PathValue("tag")
	s.changeTags(w, r, p, func(img *catalog.Image) error {
		if len(tag) > maxKeyLen || !utf8.ValidString(tag) {
			return fmt.Errorf("tag of image %s: at most %d characters of UTF-8: %w", img.ID, maxKeyLen, errs.ErrInvalid)
		}
		if slices.Contains(img.Tags, tag) {
			return nil
		}
		if len(img.Tags) >= s.cfg.Limits.MaxTags {
			return statusErr(http.StatusRequestEntityTooLarge, "image %s has the maximum of %d tags", img.ID, s.cfg.Limits.MaxTags)
		}
		img.Tags = append(img.Tags, tag)
		return nil
	})
}

// removeTag is DELETE /v2/images/{id}/tags/{tag}: 204, or 404 when the
// image does not have the tag.
func (s *Server) removeTag(w http.ResponseWriter, r *http.Request, p auth.Principal) {
	tag := r.PathValue("tag")
	s.changeTags(w, r, p, func(img *catalog.Image) error {
		i := slices.Index(img.Tags, tag)
		if i < 0 {
			return fmt.Errorf("image %s has no tag %q: %w", img.ID, tag, errs.ErrNotFound)
		}
		img.Tags = slices.Delete(img.Tags, i, i+1)
		return nil
	})
}

// changeTags applies change to the tags of an image the caller may modify,
// in one catalog transaction, and answers 204.
func (s *Server) changeTags(w http.ResponseWriter, r *http.Request, p auth.Principal, change func(*catalog.Image) error) {
	ctx := r.Context()
	img, err := s.lookupWritable(ctx, p, r.PathValue("id"))
	if err == nil {
		_, err = s.cfg.Catalog.Update(ctx, img.ID, func(i *catalog.Image) error {
			if err := change(i); err != nil {
				return err
			}
			i.UpdatedAt = now()
			return nil
		})
	}
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}
