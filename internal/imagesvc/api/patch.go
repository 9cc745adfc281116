package api

import (
	"encoding/json"
	"fmt"
	"maps"
	"mime"
	"net/http"
	"slices"
	"strings"

	"github.com/cowdisk/cowdisk/internal/errs"
	"github.com/cowdisk/cowdisk/internal/imagesvc/auth"
	"github.com/cowdisk/cowdisk/internal/imagesvc/catalog"
	"github.com/cowdisk/cowdisk/internal/strictjson"
)

// patchMediaType is the only PATCH body type accepted (Glance v2.1 JSON patch).
const patchMediaType = "application/openstack-images-v2.1-json-patch"

// patchOp is one RFC 6902-style operation as Glance restricts it: add,
// replace or remove of one top-level attribute.
type patchOp struct {
	Op    string           `json:"op"`
	Path  string           `json:"path"`
	Value *json.RawMessage `json:"value"`
}

// coreFields can be replaced but not removed (Glance answers 403).
var coreFields = []string{"name", "disk_format", "container_format", "visibility", "owner",
	"protected", "os_hidden", "min_disk", "min_ram", "tags"}

// decodePatch parses and checks a patch document without applying it.
func decodePatch(body []byte) ([]patchOp, error) {
	var ops []patchOp
	if err := strictjson.Unmarshal(body, &ops, strictjson.Options{DisallowUnknownFields: true}); err != nil {
		return nil, fmt.Errorf("patch must be a JSON array of {op, path, value}: %w", err)
	}
	for i, op := range ops {
		attr, err := pointerAttr(op.Path)
		if err != nil {
			return nil, fmt.Errorf("operation %d: %w", i, err)
		}
		ops[i].Path = attr
		switch op.Op {
		case "add", "replace":
			if op.Value == nil {
				return nil, fmt.Errorf("operation %d (%s %s) needs a value: %w", i, op.Op, op.Path, errs.ErrInvalid)
			}
		case "remove":
			if op.Value != nil {
				return nil, fmt.Errorf("operation %d: remove takes no value: %w", i, errs.ErrInvalid)
			}
		default:
			return nil, fmt.Errorf("operation %d: op %q (want add, replace or remove): %w", i, op.Op, errs.ErrInvalid)
		}
	}
	return ops, nil
}

// pointerAttr turns a JSON pointer "/a~1b" into the attribute name "a/b";
// only single-level pointers are meaningful for images.
func pointerAttr(path string) (string, error) {
	rest, ok := strings.CutPrefix(path, "/")
	if !ok || rest == "" || strings.Contains(rest, "/") {
		return "", fmt.Errorf("path %q must name one attribute, like /name: %w", path, errs.ErrInvalid)
	}
	// ~1 before ~0, as RFC 6901 requires, so "~01" stays "~1".
	return strings.ReplaceAll(strings.ReplaceAll(rest, "~1", "/"), "~0", "~"), nil
}

// applyPatch applies ops to img in order; the first error abandons them all.
func applyPatch(img *catalog.Image, p auth.Principal, ops []patchOp) error {
	for _, op := range ops {
		_, isProp := img.Properties[op.Path]
		core := slices.Contains(coreFields, op.Path)
		var err error
		switch {
		case op.Op == "remove" && core:
			err = fmt.Errorf("attribute %q cannot be removed: %w", op.Path, errs.ErrPermission)
		case op.Op == "remove" && slices.Contains(readOnly, op.Path):
			err = fmt.Errorf("attribute %q is read-only: %w", op.Path, errs.ErrPermission)
		case op.Op == "remove" && !isProp:
			err = fmt.Errorf("property %q does not exist: %w", op.Path, errs.ErrConflict)
		case op.Op == "remove":
			delete(img.Properties, op.Path)
		case op.Op == "replace" && !core && !isProp && !slices.Contains(readOnly, op.Path):
			err = fmt.Errorf("property %q does not exist; use add: %w", op.Path, errs.ErrConflict)
		default:
			err = setField(img, p, op.Path, *op.Value)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

func (s *Server) patch(w http.ResponseWriter, r *http.Request, p auth.Principal) {
	mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if mt != patchMediaType {
		s.writeError(w, r, statusErr(http.StatusUnsupportedMediaType,
			"PATCH needs Content-Type %s, got %q", patchMediaType, r.Header.Get("Content-Type")))
		return
	}
	if s.patchLocations(w, r, p) {
		return
	}
	ctx := r.Context()
	img, err := s.lookupWritable(ctx, p, r.PathValue("id"))
	var body []byte
	if err == nil {
		body, err = readJSONBody(w, r)
	}
	var ops []patchOp
	if err == nil {
		ops, err = decodePatch(body)
	}
	if err == nil {
		img, err = s.cfg.Catalog.Update(ctx, img.ID, func(i *catalog.Image) error {
			if i.Status == catalog.StatusDeleted { // deleted since lookup
				return fmt.Errorf("image %s: %w", i.ID, errs.ErrNotFound)
			}
			before := catalog.Image{Properties: maps.Clone(i.Properties), Tags: i.Tags}
			i.UpdatedAt = now()
			if err := applyPatch(i, p, ops); err != nil {
				return err
			}
			return s.cfg.Limits.check(i, &before)
		})
	}
	s.answer(w, r, err, http.StatusOK, s.view(img, p))
}
