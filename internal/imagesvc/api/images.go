package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"

	"github.com/google/uuid"

	"github.com/cowdisk/cowdisk/internal/errs"
	"github.com/cowdisk/cowdisk/internal/imagesvc/auth"
	"github.com/cowdisk/cowdisk/internal/imagesvc/catalog"
	"github.com/cowdisk/cowdisk/internal/strictjson"
)

// lookup returns an image the caller may see. Malformed ids, deleted images
// and other projects' private images are all plain 404s, so a caller cannot
// probe for images it may not see.
func (s *Server) lookup(ctx context.Context, p auth.Principal, id string) (catalog.Image, error) {
	if _, err := parseID(id); err != nil {
		return catalog.Image{}, fmt.Errorf("image %q: %w", id, errs.ErrNotFound)
	}
	img, err := s.cfg.Catalog.Get(ctx, id)
	if err != nil {
		return catalog.Image{}, err
	}
	member := false
	if img.Visibility == catalog.Shared && img.Owner != p.Project {
		_, err := s.cfg.Catalog.Member(ctx, id, p.Project)
		if err != nil && !errors.Is(err, errs.ErrNotFound) {
			return catalog.Image{}, err
		}
		member = err == nil
	}
	if img.Status == catalog.StatusDeleted || !p.CanSee(img.Owner, img.Visibility, member) {
		return catalog.Image{}, fmt.Errorf("image %s: %w", id, errs.ErrNotFound)
	}
	return img, nil
}

// lookupWritable is lookup plus the right to change the image (403 when
// visible but not the caller's).
func (s *Server) lookupWritable(ctx context.Context, p auth.Principal, id string) (catalog.Image, error) {
	img, err := s.lookup(ctx, p, id)
	if err == nil && !p.CanModify(img.Owner) {
		err = fmt.Errorf("image %s belongs to another project or the role is read-only: %w", id, errs.ErrPermission)
	}
	return img, err
}

// parseID accepts UUIDs in canonical form only, so one image has one id.
func parseID(s string) (string, error) {
	u, err := uuid.Parse(s)
	if err != nil || u.String() != s {
		return "", fmt.Errorf("image id %q is not a canonical lower-case UUID: %w", s, errs.ErrInvalid)
	}
	return s, nil
}

// decodeObject reads a bounded JSON object body into raw fields.
func decodeObject(r *http.Request, w http.ResponseWriter) (map[string]json.RawMessage, error) {
	b, err := readJSONBody(w, r)
	if err != nil {
		return nil, err
	}
	var m map[string]json.RawMessage
	if err := strictjson.Unmarshal(b, &m, strictjson.Options{}); err != nil {
		return nil, fmt.Errorf("request body must be a JSON object: %w", err)
	}
	if m == nil {
		return nil, fmt.Errorf("request body must be a JSON object, not null: %w", errs.ErrInvalid)
	}
	return m, nil
}

// newImage builds a queued image from a create request body.
func newImage(fields map[string]json.RawMessage, p auth.Principal) (catalog.Image, error) {
	t := now()
	img := catalog.Image{Status: catalog.StatusQueued, Owner: p.Project,
		Visibility: catalog.Shared, // Glance's default since Ocata
		Tags:       []string{}, Properties: map[string]string{}, CreatedAt: t, UpdatedAt: t}
	if raw, ok := fields["id"]; ok {
		var id string
		if err := json.Unmarshal(raw, &id); err != nil {
			return img, fmt.Errorf("id must be a string: %w", errs.ErrInvalid)
		}
		if _, err := parseID(id); err != nil {
			return img, err
		}
		img.ID = id
		delete(fields, "id")
	} else {
		img.ID = uuid.NewString()
	}
	keys := make([]string, 0, len(fields))
	for k := range fields {
		keys = append(keys, k)
	}
	slices.Sort(keys) // deterministic: the same bad request gives the same error
	for _, k := range keys {
		if err := setField(&img, p, k, fields[k]); err != nil {
			return img, err
		}
	}
	return img, nil
}

func (s *Server) create(w http.ResponseWriter, r *http.Request, p auth.Principal) {
	if !p.CanCreate() {
		s.writeError(w, r, fmt.Errorf("creating images needs the member or admin role: %w", errs.ErrPermission))
		return
	}
	fields, err := decodeObject(r, w)
	if err == nil {
		var img catalog.Image
		if img, err = newImage(fields, p); err == nil {
			err = s.cfg.Limits.check(&img, nil)
		}
		if err == nil {
			if err = s.cfg.Catalog.Create(r.Context(), img); err == nil {
				logger(r).Info("image created", "image", img.ID, "owner", img.Owner)
				w.Header().Set("Location", "/v2/images/"+img.ID)
				s.setImportHeader(w)
				writeJSON(w, http.StatusCreated, s.view(img, p))
				return
			}
		}
	}
	s.writeError(w, r, err)
}

func (s *Server) get(w http.ResponseWriter, r *http.Request, p auth.Principal) {
	img, err := s.lookup(r.Context(), p, r.PathValue("id"))
	s.answer(w, r, err, http.StatusOK, s.view(img, p))
}

// writableStatus answers 409 for uploads to images past queued.
func writableStatus(img *catalog.Image) error {
	switch img.Status {
	case catalog.StatusQueued:
		return nil
	case catalog.StatusDeleted:
		return statusErr(http.StatusGone, "image %s was deleted", img.ID)
	}
	return fmt.Errorf("image %s is %s; data can be uploaded once, to a queued image: %w",
		img.ID, img.Status, errs.ErrConflict)
}
