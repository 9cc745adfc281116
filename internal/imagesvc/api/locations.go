package api

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/cowdisk/cowdisk/internal/errs"
	"github.com/cowdisk/cowdisk/internal/imagesvc/auth"
	"github.com/cowdisk/cowdisk/internal/imagesvc/catalog"
	"github.com/cowdisk/cowdisk/internal/imagesvc/store"
)

// newLocation is a location to add: the body of POST
// /v2/images/{id}/locations, or the value of a JSON-patch add /locations/-.
type newLocation struct {
	URL            string            `json:"url"`
	Metadata       map[string]string `json:"metadata"`
	ValidationData *validationData   `json:"validation_data"`
}

// validationData carries the hashes of data the caller wrote itself.
type validationData struct {
	Checksum    *string `json:"checksum"`
	OSHashAlgo  *string `json:"os_hash_algo"`
	OSHashValue *string `json:"os_hash_value"`
}

// check accepts well-formed hashes only: md5 and sha512 in lower-case hex,
// the algorithm this service records.
func (v *validationData) check() error {
	if v == nil {
		return nil
	}
	if v.Checksum != nil && !isHex(*v.Checksum, 32) {
		return fmt.Errorf("validation_data: checksum is not an md5 in hex: %w", errs.ErrInvalid)
	}
	if (v.OSHashAlgo == nil) != (v.OSHashValue == nil) {
		return fmt.Errorf("validation_data: os_hash_algo and os_hash_value go together: %w", errs.ErrInvalid)
	}
	if v.OSHashAlgo != nil && (*v.OSHashAlgo != "sha512" || !isHex(*v.OSHashValue, 128)) {
		return fmt.Errorf("validation_data: os_hash_algo must be sha512 with a 128-digit hex os_hash_value: %w",
			errs.ErrInvalid)
	}
	return nil
}

func isHex(s string, n int) bool {
	_, err := hex.DecodeString(s)
	return err == nil && len(s) == n && s == strings.ToLower(s)
}

// mayAddLocations: Glance's add-location API is for the service role
// (Nova, Cinder); admins may too.
func mayAddLocations(p auth.Principal) error {
	if p.Has(auth.Service) || p.Admin() {
		return nil
	}
	return fmt.Errorf("adding an image location needs the service or admin role: %w", errs.ErrPermission)
}

// decodeLocation reads a location object, refusing unknown fields.
func decodeLocation(raw json.RawMessage) (newLocation, error) {
	var l newLocation
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&l); err != nil {
		return l, fmt.Errorf("location must be {url, metadata, validation_data}: %v: %w", err, errs.ErrInvalid)
	}
	if l.URL == "" {
		return l, fmt.Errorf("location needs a url: %w", errs.ErrInvalid)
	}
	// Never repeat a URL that carries credentials, not even in the error.
	if u, err := url.Parse(l.URL); err != nil || u.User != nil {
		return l, fmt.Errorf("location url is unparsable or carries userinfo: %w", errs.ErrBadLocation)
	}
	return l, l.ValidationData.check()
}

// addLocation sets the location of a queued image after the store has
// checked it, making the image active with the size the store reports.
func (s *Server) addLocation(ctx context.Context, p auth.Principal, id string, l newLocation) (catalog.Image, error) {
	if err := mayAddLocations(p); err != nil {
		return catalog.Image{}, err
	}
	img, err := s.lookup(ctx, p, id)
	if err != nil {
		return img, err
	}
	checker, ok := s.cfg.Store.(store.LocationChecker)
	if !ok {
		return img, fmt.Errorf("image %s: the %s store accepts no locations: %w", id, s.cfg.Store.ID(), errs.ErrBadLocation)
	}
	size, err := checker.CheckLocation(ctx, img.ID, l.URL)
	if err == nil && size > s.cfg.MaxImageSize {
		err = statusErr(http.StatusRequestEntityTooLarge, "data at the location is %d bytes, above the limit of %d",
			size, s.cfg.MaxImageSize)
	}
	if err != nil {
		return img, fmt.Errorf("image %s: %w", id, err)
	}
	img, err = s.cfg.Catalog.Update(ctx, img.ID, func(i *catalog.Image) error {
		if i.Status != catalog.StatusQueued {
			return fmt.Errorf("image %s is %s; a location can be added to a queued image only: %w",
				id, i.Status, errs.ErrConflict)
		}
		md := map[string]string{"store": s.cfg.Store.ID()}
		for k, v := range l.Metadata {
			md[k] = v
		}
		i.Status, i.Size, i.UpdatedAt = catalog.StatusActive, &size, now()
		if i.DiskFormat != nil && *i.DiskFormat == "raw" {
			i.VirtualSize = &size
		}
		if v := l.ValidationData; v != nil {
			i.Checksum, i.OSHashAlgo, i.OSHashValue = v.Checksum, v.OSHashAlgo, v.OSHashValue
		}
		i.Locations = []catalog.Location{{URL: l.URL, Metadata: md}}
		return nil
	})
	if err == nil && (img.Checksum == nil || img.OSHashValue == nil) {
		s.imports.start(func(ctx context.Context) { s.hashLocation(ctx, img.ID, l.URL) })
	}
	return img, err
}

// postLocation is POST /v2/images/{id}/locations (Glance's add-location
// API): 202 with no body, as Glance answers.
func (s *Server) postLocation(w http.ResponseWriter, r *http.Request, p auth.Principal) {
	err := mayAddLocations(p)
	var l newLocation
	if err == nil {
		var raw json.RawMessage
		if raw, err = decodeRaw(r, w); err == nil {
			l, err = decodeLocation(raw)
		}
	}
	var img catalog.Image
	if err == nil {
		img, err = s.addLocation(r.Context(), p, r.PathValue("id"), l)
	}
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	logger(r).Info("image location added", "image", img.ID, "size", *img.Size)
	w.WriteHeader(http.StatusAccepted)
}

// getLocations is GET /v2/images/{id}/locations: service and admin only,
// whatever the visibility policy (it is the service API).
func (s *Server) getLocations(w http.ResponseWriter, r *http.Request, p auth.Principal) {
	err := mayAddLocations(p)
	var img catalog.Image
	if err == nil {
		img, err = s.lookup(r.Context(), p, r.PathValue("id"))
	}
	locs := make([]map[string]any, 0, len(img.Locations))
	for _, l := range img.Locations {
		locs = append(locs, map[string]any{"url": l.URL, "metadata": l.Metadata})
	}
	s.answer(w, r, err, http.StatusOK, locs)
}

func decodeRaw(r *http.Request, w http.ResponseWriter) (json.RawMessage, error) {
	fields, err := decodeObject(r, w)
	if err != nil {
		return nil, err
	}
	raw, _ := json.Marshal(fields)
	return raw, nil
}
