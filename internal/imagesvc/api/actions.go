package api

import (
	"fmt"
	"net/http"

	"github.com/cowdisk/cowdisk/internal/errs"
	"github.com/cowdisk/cowdisk/internal/imagesvc/auth"
	"github.com/cowdisk/cowdisk/internal/imagesvc/catalog"
)

// deactivate and reactivate are Glance's image actions: the owner's members
// and admins may switch an active image off and on again (Glance's default
// policy ADMIN_OR_PROJECT_MEMBER); asking for the state the image is in
// already does nothing; any other status is 403 (glance.domain.Image).
func (s *Server) deactivate(w http.ResponseWriter, r *http.Request, p auth.Principal) {
	s.switchImage(w, r, p, catalog.StatusActive, catalog.StatusDeactivated)
}

func (s *Server) reactivate(w http.ResponseWriter, r *http.Request, p auth.Principal) {
	s.switchImage(w, r, p, catalog.StatusDeactivated, catalog.StatusActive)
}

func (s *Server) switchImage(w http.ResponseWriter, r *http.Request, p auth.Principal, from, to string) {
	ctx := r.Context()
	img, err := s.lookupWritable(ctx, p, r.PathValue("id"))
	if err == nil {
		// Checked again inside the update: an upload or delete may have
		// moved the image since it was read.
		_, err = s.cfg.Catalog.Update(ctx, img.ID, func(i *catalog.Image) error {
			switch i.Status {
			case to:
				return nil
			case from:
				i.Status, i.UpdatedAt = to, now()
				return nil
			}
			return fmt.Errorf("image %s is %s; only %s images can be made %s: %w",
				i.ID, i.Status, from, to, errs.ErrPermission)
		})
	}
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	logger(r).Info("image "+to, "image", img.ID)
	w.WriteHeader(http.StatusNoContent)
}

// downloadable refuses the data of a deactivated image to all but admins,
// as Glance does (the service role included: no new disks of it).
func downloadable(img catalog.Image, p auth.Principal) error {
	if img.Status == catalog.StatusDeactivated && !p.Admin() {
		return fmt.Errorf("image %s is deactivated; its data cannot be downloaded: %w", img.ID, errs.ErrPermission)
	}
	return nil
}

// hasData reports whether the image's data can be served: active images,
// and deactivated ones to those downloadable lets through.
func hasData(img catalog.Image) bool {
	return (img.Status == catalog.StatusActive || img.Status == catalog.StatusDeactivated) && len(img.Locations) > 0
}
