package api

import (
	"cmp"
	"context"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/cowdisk/cowdisk/internal/errs"
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
	src := &recordedReaderAt{r: obj}
	dw := &firstByteWriter{ResponseWriter: w}
	http.ServeContent(dw, r, "", time.Time{}, io.NewSectionReader(src, 0, obj.Size()))
	switch {
	case src.err != nil && !dw.sent:
		// Nothing was sent: the client gets the store's failure (503
		// when Ceph does not answer), not a body cut short it could only
		// take for a lie.
		// (writeError sets its own Content-Type and Content-Length.)
		for _, h := range []string{"Content-Range", "Accept-Ranges", "Content-MD5"} {
			w.Header().Del(h)
		}
		s.writeError(w, r, readFailed(r, img.ID, src.err))
	case src.err != nil:
		// net/http ends the connection: the body is shorter than its
		// Content-Length, which the client sees.
		logger(r).Error("download cut short", "image", img.ID, "err", src.err)
	default:
		dw.flush()
	}
}

// readFailed is the answer to a store read that failed before any data:
// "retry later" for a store that does not answer (its text, which names
// pools, goes to the log), an internal error otherwise.
func readFailed(r *http.Request, id string, err error) error {
	if !retryLater(err) {
		return fmt.Errorf("read image %s: %w", id, err)
	}
	logger(r).Warn("image data unavailable", "image", id, "err", err)
	return toldReason{fmt.Errorf("image %s: its data cannot be read now, retry later: %w", id, errs.ErrUnavailable)}
}

// recordedReaderAt keeps the first read error, which ServeContent drops.
type recordedReaderAt struct {
	r   io.ReaderAt
	err error
}

func (r *recordedReaderAt) ReadAt(p []byte, off int64) (int, error) {
	n, err := r.r.ReadAt(p, off)
	if err != nil && err != io.EOF && r.err == nil {
		r.err = err
	}
	return n, err
}

// firstByteWriter holds the status line back until the first byte of the
// body, so a store that fails before any data can still answer an error.
type firstByteWriter struct {
	http.ResponseWriter
	code int
	sent bool
}

func (w *firstByteWriter) WriteHeader(code int) {
	if code < 200 || code >= 300 || w.sent { // errors and 304 carry no store data
		w.sent = true
		w.ResponseWriter.WriteHeader(code)
		return
	}
	w.code = code
}

func (w *firstByteWriter) Write(p []byte) (int, error) {
	w.flush()
	return w.ResponseWriter.Write(p)
}

// flush sends a held status line (a HEAD, or an empty body).
func (w *firstByteWriter) flush() {
	if !w.sent {
		w.sent = true
		w.ResponseWriter.WriteHeader(cmp.Or(w.code, http.StatusOK))
	}
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
