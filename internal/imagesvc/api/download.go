package api

import (
	"io"
	"net/http"
	"time"

	"github.com/cowdisk/cowdisk/internal/imagesvc/auth"
)

func (s *Server) download(w http.ResponseWriter, r *http.Request, p auth.Principal) {
	ctx := r.Context()
	img, err := s.lookup(ctx, p, r.PathValue("id"))
	if err == nil {
		err = downloadable(img, p)
	}
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if !hasData(img) {
		// Glance answers 204 for an image without data.
		w.WriteHeader(http.StatusNoContent)
		return
	}
	obj, err := s.cfg.Store.Open(ctx, img.Locations[0].URL)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	defer obj.Close()
	w.Header().Set("Content-Type", "application/octet-stream")
	// Glance sends the md5 hex (not base64 as RFC 1864 would) and only
	// for whole-image responses, where it describes the body.
	if r.Header.Get("Range") == "" && img.Checksum != nil {
		w.Header().Set("Content-MD5", *img.Checksum)
	}
	// ServeContent does Range (206, 416), HEAD and conditional requests.
	http.ServeContent(w, r, "", time.Time{}, io.NewSectionReader(obj, 0, obj.Size()))
}
