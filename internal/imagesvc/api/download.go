package api

import (
	"context"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/cowdisk/cowdisk/internal/imagesvc/auth"
	"github.com/cowdisk/cowdisk/internal/imagesvc/catalog"
	"github.com/cowdisk/cowdisk/internal/imagesvc/store"
)

// lookupData finds an image whose data p may read: the rules of the
// download, which the chunk list follows too.
func (s *Server) lookupData(ctx context.Context, p auth.Principal, id string) (catalog.Image, error) {
	img, err := s.lookup(ctx, p, id)
	if err == nil {
		err = downloadable(img, p)
	}
	return img, err
}

func (s *Server) download(w http.ResponseWriter, r *http.Request, p auth.Principal) {
	ctx := r.Context()
	img, err := s.lookupData(ctx, p, r.PathValue("id"))
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
	if win, ok := obj.(store.Windowed); ok {
		if lo, hi, ok := singleRange(r.Header.Get("Range"), obj.Size()); ok {
			win.Window(lo, hi)
		}
	}
	// ServeContent does Range (206, 416), HEAD and conditional requests.
	http.ServeContent(w, r, "", time.Time{}, io.NewSectionReader(obj, 0, obj.Size()))
}

// singleRange reads a Range header of one range ("bytes=a-b", "bytes=a-",
// "bytes=-n") as [lo, hi) within size, so the store fetches only that.
// Anything else is left to ServeContent (which answers it, or 416) with
// no window: ok is false.
func singleRange(h string, size int64) (lo, hi int64, ok bool) {
	spec, found := strings.CutPrefix(h, "bytes=")
	first, last, dash := strings.Cut(strings.TrimSpace(spec), "-")
	if !found || !dash || strings.Contains(spec, ",") {
		return 0, 0, false
	}
	a, aerr := strconv.ParseInt(first, 10, 64)
	b, berr := strconv.ParseInt(last, 10, 64)
	switch {
	case first == "" && berr == nil && b > 0: // the last b bytes
		return max(size-b, 0), size, true
	case aerr == nil && last == "" && a < size:
		return a, size, true
	case aerr == nil && berr == nil && a <= b && a < size:
		return a, min(b+1, size), true
	}
	return 0, 0, false
}
