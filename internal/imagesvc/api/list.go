package api

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/cowdisk/cowdisk/internal/errs"
	"github.com/cowdisk/cowdisk/internal/imagesvc/auth"
	"github.com/cowdisk/cowdisk/internal/imagesvc/catalog"
)

// Glance's limit_param_default and api_limit_max.
const (
	defaultLimit = 25
	maxLimit     = 1000
)

var listParams = []string{"limit", "marker", "name", "status", "visibility", "owner", "disk_format",
	"tag", "sort_key", "sort_dir", "sort", "member_status"}

// parseListQuery turns the query string into a catalog filter. Unknown
// parameters are refused rather than ignored: a filter silently not applied
// would return images the caller did not ask for.
func parseListQuery(q url.Values, p auth.Principal) (catalog.Filter, error) {
	f := catalog.Filter{Project: p.Project, Admin: p.ReadsAll(), Limit: defaultLimit,
		Name: q.Get("name"), Status: q.Get("status"), Visibility: q.Get("visibility"),
		Owner: q.Get("owner"), DiskFormat: q.Get("disk_format"), Tags: q["tag"],
		Marker: q.Get("marker"), SortKey: q.Get("sort_key"), SortDir: q.Get("sort_dir"),
		MemberStatus: q.Get("member_status")}
	for k := range q {
		if !slices.Contains(listParams, k) {
			return f, fmt.Errorf("unknown query parameter %q (supported: %s): %w",
				k, strings.Join(listParams, ", "), errs.ErrInvalid)
		}
	}
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			return f, fmt.Errorf("limit %q must be a positive integer: %w", v, errs.ErrInvalid)
		}
		f.Limit = min(n, maxLimit)
	}
	if v := q.Get("sort"); v != "" { // new-style "key[:dir]", one key only
		if f.SortKey != "" || strings.Contains(v, ",") {
			return f, fmt.Errorf("sort %q: one key, and not together with sort_key: %w", v, errs.ErrInvalid)
		}
		f.SortKey, f.SortDir, _ = strings.Cut(v, ":")
	}
	if f.Visibility != "" && f.Visibility != "all" && !slices.Contains(visibilities, f.Visibility) {
		return f, fmt.Errorf("visibility %q: %w", f.Visibility, errs.ErrInvalid)
	}
	if v := f.MemberStatus; v != "" && v != "all" && !slices.Contains(memberStatuses, v) {
		return f, fmt.Errorf("member_status %q: %w", v, errs.ErrInvalid)
	}
	if f.Marker != "" {
		if _, err := parseID(f.Marker); err != nil {
			return f, err
		}
	}
	return f, nil
}

func (s *Server) list(w http.ResponseWriter, r *http.Request, p auth.Principal) {
	q := r.URL.Query()
	f, err := parseListQuery(q, p)
	var page []catalog.Image
	if err == nil {
		page, err = s.cfg.Catalog.List(r.Context(), f)
		if errors.Is(err, errs.ErrNotFound) { // Glance: an unknown marker is a bad request
			err = fmt.Errorf("marker %s not found: %w", f.Marker, errs.ErrInvalid)
		}
	}
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	images := make([]map[string]any, 0, len(page))
	for _, img := range page {
		images = append(images, s.view(img, p))
	}
	body := map[string]any{"images": images, "first": "/v2/images", "schema": "/v2/schemas/images"}
	if len(page) == f.Limit {
		q.Set("marker", page[len(page)-1].ID)
		q.Set("limit", strconv.Itoa(f.Limit))
		body["next"] = "/v2/images?" + q.Encode()
	}
	writeJSON(w, http.StatusOK, body)
}
