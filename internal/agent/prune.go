package agent

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/cowdisk/cowdisk/internal/errs"
	"github.com/cowdisk/cowdisk/internal/provisioner"
)

// maxPruneAge bounds --older-than: beyond ten years it is a typo.
const maxPruneAge = 10 * 365 * 24 * time.Hour

// pruneOptions reads ?dry_run=true&older_than=DURATION of POST
// /v1/cache/prune; without them the route prunes every unused base, as
// before.
func pruneOptions(q url.Values) (provisioner.PruneOptions, error) {
	var o provisioner.PruneOptions
	for k := range q {
		if k != "dry_run" && k != "older_than" {
			return o, fmt.Errorf("prune: unknown parameter %q (want dry_run, older_than): %w", k, errs.ErrInvalid)
		}
	}
	if v := q.Get("dry_run"); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return o, fmt.Errorf("prune: dry_run %q: want true or false: %w", v, errs.ErrInvalid)
		}
		o.DryRun = b
	}
	if v := q.Get("older_than"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d < 0 || d > maxPruneAge {
			return o, fmt.Errorf("prune: older_than %q: want a duration such as 72h, at most %s: %w", v, maxPruneAge, errs.ErrInvalid)
		}
		o.OlderThan = d
	}
	return o, nil
}

// PruneWith is the admin-only prune with options.
func (s scoped) PruneWith(ctx context.Context, o provisioner.PruneOptions) ([]string, error) {
	if err := s.cacheOnly(); err != nil {
		return nil, err
	}
	if p, ok := s.b.(provisioner.OptionsPruner); ok {
		return p.PruneWith(ctx, o)
	}
	if o == (provisioner.PruneOptions{}) {
		return s.b.Prune(ctx)
	}
	return nil, fmt.Errorf("prune: this backend takes no dry_run or older_than: %w", errs.ErrInvalid)
}

// prune runs POST /v1/cache/prune.
func (s *Server) prune(w http.ResponseWriter, r *http.Request) {
	o, err := pruneOptions(r.URL.Query())
	if err != nil {
		s.fail(w, r, "prune", err)
		return
	}
	be := s.backend(w, r, "prune")
	if be == nil {
		return
	}
	removed, err := be.b.(scoped).PruneWith(r.Context(), o)
	if err != nil {
		s.fail(w, r, "prune", err)
		return
	}
	writeJSON(w, http.StatusOK, PruneResult{Removed: removed, DryRun: o.DryRun})
}

// PruneWith removes unused bases (dryRun: only lists them), only those
// created at least olderThan ago when it is not zero.
func (c *Client) PruneWith(ctx context.Context, dryRun bool, olderThan time.Duration) (PruneResult, error) {
	q := url.Values{}
	if dryRun {
		q.Set("dry_run", "true")
	}
	if olderThan > 0 {
		q.Set("older_than", olderThan.String())
	}
	path := "/v1/cache/prune"
	if len(q) > 0 {
		path += "?" + q.Encode()
	}
	var out PruneResult
	_, err := c.do(ctx, http.MethodPost, path, nil, &out)
	return out, err
}

func baseJSON(b provisioner.Base) Base {
	out := Base{ImageID: b.ImageID, Pool: b.Pool, Image: b.Image, Snapshot: b.Snapshot, SizeBytes: b.SizeBytes, Children: b.Children}
	if !b.Created.IsZero() {
		out.CreatedAt = b.Created.UTC().Format(time.RFC3339)
	}
	return out
}
