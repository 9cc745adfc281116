package baseline

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"time"
)

// Download is how the naive pipeline fetches the image body: an HTTP GET of
// the image service's data URL, with whatever headers the service needs.
type Download struct {
	URL    string
	Header http.Header
	Client *http.Client // nil: http.DefaultClient
}

// Naive runs the pipeline Nova's rbd image backend used for an image it could
// not clone (nova/virt/images.py fetch_to_raw, then `rbd import`):
// download to <workdir>/<name>.part, convert to <workdir>/<name>.converted
// when format is not raw (Nova skips the conversion for raw, and so do we,
// which makes this baseline the stronger one), then `rbd import`. Its local
// files are removed whatever happens.
func (t Tools) Naive(ctx context.Context, d Download, format, workdir, pool, name string) (Timing, error) {
	var tm Timing
	start := time.Now()
	part := filepath.Join(workdir, name+".part")
	defer os.Remove(part)
	if err := d.to(ctx, part); err != nil {
		return tm, err
	}
	tm.Download = time.Since(start)
	local := part
	if format != "raw" {
		conv := filepath.Join(workdir, name+".converted")
		defer os.Remove(conv)
		t0 := time.Now()
		if err := t.qemuConvert(ctx, part, format, conv); err != nil {
			return tm, err
		}
		tm.Convert, local = time.Since(t0), conv
	}
	imp, err := t.RBDImport(ctx, local, pool, name)
	tm.Import = imp
	tm.Total = time.Since(start)
	return tm, err
}

// to streams the body into path. Like the image clients Nova uses, it writes
// every byte, zeros included: a plain download does not know about holes.
func (d Download) to(ctx context.Context, path string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, d.URL, nil)
	if err != nil {
		return fmt.Errorf("download %s: %w", d.URL, err)
	}
	for k, v := range d.Header {
		req.Header[k] = v
	}
	c := d.Client
	if c == nil {
		c = http.DefaultClient
	}
	resp, err := c.Do(req)
	if err != nil {
		return fmt.Errorf("download %s: %w", d.URL, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("download %s: %s", d.URL, resp.Status)
	}
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("download to %s: %w", path, err)
	}
	if _, err := io.Copy(f, resp.Body); err != nil {
		f.Close()
		return fmt.Errorf("download %s to %s: %w", d.URL, path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("download to %s: %w", path, err)
	}
	return nil
}
