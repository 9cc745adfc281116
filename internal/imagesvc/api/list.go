package api

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"

	"github.com/cowdisk/cowdisk/internal/errs"
	"github.com/cowdisk/cowdisk/internal/imagesvc/auth"
	"github.com/cowdisk/cowdisk/internal/imagesvc/catalog"
)

func (s *Server) list(w http.ResponseWriter, r *http.Request, p auth.Principal) {
	f, q, err := s.parseListQuery(r.URL.RawQuery)
	f.Project, f.Admin = p.Project, p.ReadsAll()
	var page []catalog.Image
	if err == nil && f.Limit > 0 { // limit=0 is an empty page, as in Glance
		page, err = s.cfg.Catalog.List(r.Context(), f)
		if errors.Is(err, errs.ErrNotFound) { // Glance: an unknown marker is a bad request
			err = fmt.Errorf("marker %s not found: %w", f.Marker, errs.ErrInvalid)
		}
	}
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	s.writePage(w, p, page, q, more(f, page))
}

// more says whether a next page may exist: the page is full, or it was
// ended early by the byte budget.
func more(f catalog.Filter, page []catalog.Image) bool {
	if len(page) == 0 {
		return false
	}
	if len(page) >= f.Limit {
		return true
	}
	var n int64
	for _, img := range page {
		n += img.Footprint()
	}
	return f.MaxBytes > 0 && n >= f.MaxBytes
}

// writePage streams the list answer one image at a time, so the encoded
// page is never held whole; each record is dropped once written. Links
// keep every parameter but the marker, as Glance's do.
func (s *Server) writePage(w http.ResponseWriter, p auth.Principal, page []catalog.Image, q url.Values, next bool) {
	q.Del("marker")
	var marker string
	if next {
		marker = page[len(page)-1].ID
	}
	first := "/v2/images"
	if len(q) > 0 {
		first += "?" + q.Encode()
	}
	w.Header().Set("Content-Type", "application/json; charset=UTF-8")
	w.WriteHeader(http.StatusOK)
	io.WriteString(w, `{"images":[`)
	enc := json.NewEncoder(w)
	for i := range page {
		if i > 0 {
			io.WriteString(w, ",")
		}
		if err := enc.Encode(s.view(page[i], p)); err != nil {
			return // the client is gone; the status is sent already
		}
		page[i] = catalog.Image{}
	}
	io.WriteString(w, `],`)
	tail := map[string]string{"first": first, "schema": "/v2/schemas/images"}
	if next {
		q.Set("marker", marker)
		tail["next"] = "/v2/images?" + q.Encode()
	}
	b, _ := json.Marshal(tail) // strings only: cannot fail
	w.Write(b[1:])             // the object's members after its "{"
}
