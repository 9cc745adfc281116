// Package glance is the little of the Glance v2 API the benchmark needs:
// create an image, upload its file, read it back, delete it. Plain HTTP
// keeps the benchmark independent of the project's own image client, so a
// bug there cannot flatter the numbers.
package glance

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
)

// Client talks to one image service.
type Client struct {
	Base  string // e.g. http://127.0.0.1:9292
	Token string // X-Auth-Token; "" when the service runs without auth
	HTTP  *http.Client
}

// Image is the part of an image record the benchmark reads.
type Image struct {
	ID         string `json:"id"`
	Status     string `json:"status"`
	DiskFormat string `json:"disk_format"`
	Size       int64  `json:"size"`
	DirectURL  string `json:"direct_url"`
}

// Upload creates an image named name with disk_format format and uploads the
// file at path; it returns the image as the service then shows it.
func (c *Client) Upload(ctx context.Context, name, format, path string) (Image, error) {
	body, _ := json.Marshal(map[string]string{"name": name, "disk_format": format, "container_format": "bare", "visibility": "public"})
	var img Image
	if err := c.do(ctx, http.MethodPost, "/v2/images", "application/json", bytes.NewReader(body), -1, &img); err != nil {
		return Image{}, fmt.Errorf("create image %s: %w", name, err)
	}
	f, err := os.Open(path)
	if err != nil {
		return Image{}, fmt.Errorf("upload %s: %w", path, err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return Image{}, fmt.Errorf("upload %s: %w", path, err)
	}
	if err := c.do(ctx, http.MethodPut, "/v2/images/"+img.ID+"/file", "application/octet-stream", f, st.Size(), nil); err != nil {
		return Image{}, fmt.Errorf("upload %s to image %s: %w", path, img.ID, err)
	}
	return c.Get(ctx, img.ID)
}

// Get reads an image record.
func (c *Client) Get(ctx context.Context, id string) (Image, error) {
	var img Image
	if err := c.do(ctx, http.MethodGet, "/v2/images/"+id, "", nil, -1, &img); err != nil {
		return Image{}, fmt.Errorf("get image %s: %w", id, err)
	}
	return img, nil
}

// Delete removes an image; already gone is fine.
func (c *Client) Delete(ctx context.Context, id string) error {
	err := c.do(ctx, http.MethodDelete, "/v2/images/"+id, "", nil, -1, nil)
	var se *StatusError
	if errors.As(err, &se) && se.Code == http.StatusNotFound {
		return nil
	}
	return err
}

// DataURL is where the image's bytes are downloaded from.
func (c *Client) DataURL(id string) string {
	return strings.TrimSuffix(c.Base, "/") + "/v2/images/" + id + "/file"
}

// Header is what every request carries (the token, when there is one).
func (c *Client) Header() http.Header {
	h := http.Header{}
	if c.Token != "" {
		h.Set("X-Auth-Token", c.Token)
	}
	return h
}

// StatusError is a non-2xx answer.
type StatusError struct {
	Code int
	Body string
}

func (e *StatusError) Error() string { return fmt.Sprintf("image service: %d: %s", e.Code, e.Body) }

func (c *Client) do(ctx context.Context, method, path, ctype string, body io.Reader, size int64, out any) error {
	req, err := http.NewRequestWithContext(ctx, method, strings.TrimSuffix(c.Base, "/")+path, body)
	if err != nil {
		return err
	}
	req.Header = c.Header()
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	if size >= 0 {
		req.ContentLength = size
	}
	hc := c.HTTP
	if hc == nil {
		hc = http.DefaultClient
	}
	resp, err := hc.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode >= 300 {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
		return &StatusError{Code: resp.StatusCode, Body: strings.TrimSpace(string(b))}
	}
	if out == nil {
		_, _ = io.Copy(io.Discard, resp.Body)
		return nil
	}
	return json.NewDecoder(resp.Body).Decode(out)
}
