package api

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/cowdisk/cowdisk/internal/errs"
	"github.com/cowdisk/cowdisk/internal/imagesvc/auth"
)

// patchLocations answers a JSON patch that touches /locations: the
// classic add_location of glanceclient ([{"op": "add", "path":
// "/locations/-", "value": {"url", "metadata"}}]) that Nova's direct
// snapshot sends, under the same rules as POST /v2/images/{id}/locations.
// It reports whether it answered; if not, r.Body is restored for the
// ordinary patch.
func (s *Server) patchLocations(w http.ResponseWriter, r *http.Request, p auth.Principal) bool {
	b, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxRequestJSON))
	r.Body = io.NopCloser(bytes.NewReader(b))
	if err != nil {
		s.writeError(w, r, err)
		return true
	}
	var ops []rawOp
	if json.Unmarshal(b, &ops) != nil || !touchesLocations(ops) {
		return false
	}
	op := ops[0]
	err = mayAddLocations(p)
	if err == nil && (len(ops) != 1 || op.Op != "add" || (op.Path != "/locations/-" && op.Path != "/locations/0")) {
		err = fmt.Errorf("of the location operations only one add /locations/- is supported: %w", errs.ErrInvalid)
	}
	var l newLocation
	if err == nil {
		l, err = decodeLocation(op.Value)
	}
	if err == nil {
		img, aerr := s.addLocation(r.Context(), p, r.PathValue("id"), l)
		s.answer(w, r, aerr, http.StatusOK, s.view(img, p))
		return true
	}
	s.writeError(w, r, err)
	return true
}

// rawOp is a patch operation read without checks, to spot location ones.
type rawOp struct {
	Op    string          `json:"op"`
	Path  string          `json:"path"`
	Value json.RawMessage `json:"value"`
}

func touchesLocations(ops []rawOp) bool {
	for _, op := range ops {
		if op.Path == "/locations" || strings.HasPrefix(op.Path, "/locations/") {
			return true
		}
	}
	return false
}
