package api

import (
	"context"
	"encoding/json"
	"fmt"
	"mime"
	"net/http"
	"slices"
	"strings"

	"github.com/google/uuid"

	"github.com/cowdisk/cowdisk/internal/errs"
	"github.com/cowdisk/cowdisk/internal/imagesvc/auth"
	"github.com/cowdisk/cowdisk/internal/imagesvc/catalog"
	"github.com/cowdisk/cowdisk/internal/imagesvc/staging"
	"github.com/cowdisk/cowdisk/internal/imagesvc/store"
	"github.com/cowdisk/cowdisk/internal/imagesvc/webdownload"
)

// Import methods, statuses and image properties as Glance (Zed) names
// them. copy-image is not offered: it copies between stores and cowdisk
// has one.
const (
	methodDirect = "glance-direct"
	methodWeb    = "web-download"

	statusUploading = "uploading" // data staged, import not yet asked for
	statusImporting = "importing" // import running in the background

	propTask      = "os_glance_import_task"         // the running import's task id: the import lock
	propImporting = "os_glance_importing_to_stores" // stores the import writes to
	propFailed    = "os_glance_failed_import"       // stores the last import failed for
)

// ImportConfig enables Glance's interoperable image import.
type ImportConfig struct {
	// Staging keeps staged data; nil turns glance-direct (and /stage) off.
	Staging *staging.Area
	// WebDownload fetches web-download URLs; nil turns the method off.
	WebDownload *webdownload.Fetcher
	// MaxRunning bounds the imports running at once (more are 429);
	// zero means DefaultMaxImports.
	MaxRunning int
}

func (s *Server) importMethods() []string {
	var m []string
	if s.cfg.Import.Staging != nil {
		m = append(m, methodDirect)
	}
	if s.cfg.Import.WebDownload != nil {
		m = append(m, methodWeb)
	}
	return m
}

// setImportHeader tells clients on image create which import methods
// there are, as Glance does; openstacksdk reads it instead of
// /v2/info/import. No header when there are none (RFC 7230: no empty
// fields).
func (s *Server) setImportHeader(w http.ResponseWriter) {
	if m := s.importMethods(); len(m) > 0 {
		w.Header().Set("OpenStack-image-import-methods", strings.Join(m, ","))
	}
}

// importInfo is GET /v2/info/import, what clients ask before importing.
func (s *Server) importInfo(w http.ResponseWriter, _ *http.Request, _ auth.Principal) {
	m := s.importMethods()
	if m == nil {
		m = []string{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"import-methods": map[string]any{
		"description": "Import methods available.", "type": "array", "value": m}})
}

// stage is PUT /v2/images/{id}/stage: the data goes through the upload's
// bounds and format inspection into the staging area, and the image becomes
// uploading. Refused data leaves nothing staged and the image queued, with
// the failure recorded as a failed import.
func (s *Server) stage(w http.ResponseWriter, r *http.Request, p auth.Principal) {
	if err := s.stageData(r, p); err != nil {
		s.writeError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) stageData(r *http.Request, p auth.Principal) error {
	area := s.cfg.Import.Staging
	if area == nil {
		return statusErr(http.StatusNotFound, "the %s import method is not enabled", methodDirect)
	}
	ctx := r.Context()
	img, err := s.lookupWritable(ctx, p, r.PathValue("id"))
	if err != nil {
		return err
	}
	if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt != "application/octet-stream" {
		return statusErr(http.StatusUnsupportedMediaType, "staging needs Content-Type application/octet-stream")
	}
	size, err := declaredSize(r)
	if err == nil && size > s.cfg.MaxImageSize {
		err = statusErr(http.StatusRequestEntityTooLarge, "declared size %d exceeds the limit of %d bytes",
			size, s.cfg.MaxImageSize)
	}
	if err == nil && (img.DiskFormat == nil || img.ContainerFormat == nil) {
		err = fmt.Errorf("set disk_format and container_format before staging: %w", errs.ErrInvalid)
	}
	if err != nil {
		return err
	}
	var stop func()
	if img, stop, err = s.claimStatus(ctx, img.ID, catalog.StatusQueued, statusUploading); err != nil {
		return err
	}
	defer stop() // leased while staging: a replica starting meanwhile leaves it alone
	// The upload's own streaming: same bounds and inspection; the staging
	// area tells it not to hash (that happens once, at import).
	_, _, _, err = s.withStore(area).stream(ctx, r.Body, img, size)
	bg := context.WithoutCancel(ctx)
	if err != nil {
		s.requeue(bg, img.ID, statusUploading, "")
		return err
	}
	// Deleted while staging: the delete found nothing staged to remove yet.
	if cur, gerr := s.cfg.Catalog.Get(bg, img.ID); gerr == nil && cur.Status != statusUploading {
		s.dropStaged(bg, img.ID)
		return statusErr(http.StatusGone, "image %s was %s during staging", img.ID, cur.Status)
	}
	return nil
}

// withStore is s writing into another store (the staging area), so staging
// reuses the upload path instead of repeating it.
func (s *Server) withStore(st store.Store) *Server {
	c := *s
	c.cfg.Store = st
	return &c
}

// requeue puts an image in status from back to queued after a failed stage
// or import, records the failure as Glance does (os_glance_failed_import
// names the store) and drops the import lock of task (any lock when task
// is "").
func (s *Server) requeue(ctx context.Context, id, from, task string) {
	_, err := s.cfg.Catalog.Update(ctx, id, func(i *catalog.Image) error {
		if i.Status != from || (task != "" && i.Properties[propTask] != task) {
			return fmt.Errorf("image %s is %s: %w", id, i.Status, errs.ErrConflict) // deleted or taken over
		}
		i.Status, i.UpdatedAt = catalog.StatusQueued, now()
		endTask(i, s.cfg.Store.ID())
		return nil
	})
	if err != nil {
		s.log.Warn("could not put image back to queued", "image", id, "err", err)
	}
}

// endTask removes the import lock and task bookkeeping; failed names the
// store the import failed for, or "" after success.
func endTask(i *catalog.Image, failed string) {
	if i.Properties == nil {
		i.Properties = map[string]string{}
	}
	delete(i.Properties, propTask)
	i.Properties[propImporting] = ""
	i.Properties[propFailed] = failed
}

// importRequest is the body of POST /v2/images/{id}/import.
type importRequest struct {
	Method struct {
		Name *string `json:"name"`
		URI  string  `json:"uri"`
	} `json:"method"`
	AllStoresMustSucceed *bool    `json:"all_stores_must_succeed"`
	AllStores            *bool    `json:"all_stores"`
	Stores               []string `json:"stores"`
}

func (s *Server) parseImport(r *http.Request, w http.ResponseWriter) (importRequest, error) {
	var req importRequest
	fields, err := decodeObject(r, w)
	if err != nil {
		return req, err
	}
	raw, ok := fields["method"]
	if !ok {
		return req, fmt.Errorf("import request requires a 'method' field: %w", errs.ErrInvalid)
	}
	b, _ := json.Marshal(fields)
	if err := json.Unmarshal(b, &req); err != nil {
		return req, fmt.Errorf("import request: %v: %w", err, errs.ErrInvalid)
	}
	if req.Method.Name == nil || string(raw) == "null" {
		return req, fmt.Errorf("import request requires a 'name' field: %w", errs.ErrInvalid)
	}
	if !slices.Contains(s.importMethods(), *req.Method.Name) {
		return req, fmt.Errorf("unknown import method name %q: %w", *req.Method.Name, errs.ErrInvalid)
	}
	for _, st := range req.Stores {
		if st != s.cfg.Store.ID() {
			return req, fmt.Errorf("unknown store %q: %w", st, errs.ErrConflict)
		}
	}
	return req, nil
}

// importImage is POST /v2/images/{id}/import: checks as Glance makes them,
// then the image becomes importing (with the import lock) and the data is
// moved or fetched in the background; the answer is 202 at once.
func (s *Server) importImage(w http.ResponseWriter, r *http.Request, p auth.Principal) {
	ctx := r.Context()
	req, err := s.parseImport(r, w)
	var img catalog.Image
	if err == nil {
		img, err = s.lookupWritable(ctx, p, r.PathValue("id"))
	}
	if err == nil && *req.Method.Name == methodWeb {
		// Before any state change and before any connection.
		err = s.cfg.Import.WebDownload.Check(ctx, req.Method.URI)
	}
	release, free := s.imports.reserve()
	if err == nil && !free {
		err = statusErr(http.StatusTooManyRequests, "%d imports are running, the most this service runs at once; retry later",
			cap(s.imports.slots))
	}
	task := uuid.NewString()
	if err == nil {
		img, err = s.cfg.Catalog.Update(ctx, img.ID, func(i *catalog.Image) error {
			return s.claimImport(i, *req.Method.Name, task)
		})
	}
	if err != nil {
		if free {
			release()
		}
		s.writeError(w, r, err)
		return
	}
	logger(r).Info("image import started", "image", img.ID, "method", *req.Method.Name, "task", task,
		"uri", webdownload.Redact(req.Method.URI))
	s.imports.start(func(ctx context.Context) {
		defer release()
		defer s.keepLease(ctx, img.ID, statusImporting, img.Lease.PrevStatus)()
		s.runImport(ctx, img, *req.Method.Name, req.Method.URI, task)
	})
	w.WriteHeader(http.StatusAccepted)
}

// claimImport checks the image's state for method and takes the import lock.
func (s *Server) claimImport(i *catalog.Image, method, task string) error {
	switch {
	case i.Status == catalog.StatusDeleted:
		return fmt.Errorf("image %s: %w", i.ID, errs.ErrNotFound)
	case i.Status == catalog.StatusActive:
		return fmt.Errorf("image %s with status active cannot be target for import: %w", i.ID, errs.ErrConflict)
	case method == methodWeb && i.Status != catalog.StatusQueued:
		return fmt.Errorf("image %s needs to be in 'queued' state to use '%s' method (it is %s): %w",
			i.ID, method, i.Status, errs.ErrConflict)
	case method == methodDirect && i.Status != statusUploading:
		return fmt.Errorf("image %s needs to be staged before '%s' method can be used (it is %s): %w",
			i.ID, method, i.Status, errs.ErrConflict)
	case i.ContainerFormat == nil:
		return fmt.Errorf("image %s: 'container_format' needs to be set before import: %w", i.ID, errs.ErrConflict)
	case i.DiskFormat == nil:
		return fmt.Errorf("image %s: 'disk_format' needs to be set before import: %w", i.ID, errs.ErrConflict)
	case i.Properties[propTask] != "":
		return fmt.Errorf("image %s has an import running (task %s): %w", i.ID, i.Properties[propTask], errs.ErrConflict)
	}
	if i.Properties == nil {
		i.Properties = map[string]string{}
	}
	i.Lease.Take(s.cfg.Replica, s.cfg.LeaseTTL, i.Status) // renewed by runImport
	i.Status, i.UpdatedAt = statusImporting, now()
	i.Properties[propTask] = task
	i.Properties[propImporting] = s.cfg.Store.ID()
	i.Properties[propFailed] = ""
	return nil
}
