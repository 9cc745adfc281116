package agent

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"

	"github.com/cowdisk/cowdisk/internal/errs"
	"github.com/cowdisk/cowdisk/internal/tlsconf"
)

// Client talks to a node agent.
type Client struct {
	Base  string // e.g. "http://127.0.0.1:9393" or "https://…"
	Token string // sent as X-Auth-Token when not empty
	// CACert is a PEM file of the CAs to trust for an https agent ("":
	// the system roots); used when HTTP is nil.
	CACert string
	HTTP   *http.Client
}

// caClients keeps one HTTP client per CA file, so connections are reused
// and a Client stays safe to copy and to use from many goroutines.
var caClients sync.Map // CA file -> *http.Client

func (c *Client) httpClient() (*http.Client, error) {
	switch {
	case c.HTTP != nil:
		return c.HTTP, nil
	case c.CACert == "":
		return http.DefaultClient, nil
	}
	if hc, ok := caClients.Load(c.CACert); ok {
		return hc.(*http.Client), nil
	}
	hc, err := tlsconf.HTTPClient(c.CACert)
	if err != nil {
		return nil, err
	}
	actual, _ := caClients.LoadOrStore(c.CACert, hc)
	return actual.(*http.Client), nil
}

// APIError is an error answer of the agent.
type APIError struct {
	Status int
	ErrorDetail
}

// Error is the agent's message with its status: the message already names
// the object and the cause, so nothing is repeated in front of it.
func (e *APIError) Error() string {
	return fmt.Sprintf("%s (agent: HTTP %d %s)", e.Message, e.Status, e.Code)
}

// ErrorCode is the agent's error class, as sent.
func (e *APIError) ErrorCode() string { return e.Code }

// Unwrap maps the agent's code back to the sentinel it came from, so
// callers test agent errors with errors.Is like local ones.
func (e *APIError) Unwrap() error { return codeErrs[e.Code] }

var codeErrs = map[string]error{
	"invalid": errs.ErrInvalid, "not_found": errs.ErrNotFound, "conflict": errs.ErrConflict,
	"image_refused": errs.ErrRefused, "forbidden": errs.ErrPermission, "unavailable": errs.ErrUnavailable,
}

// checkBase refuses a base URL net/http would misparse ("127.0.0.1:9393"
// parses as scheme "127.0.0.1"), before any request is built.
func (c *Client) checkBase() error {
	u, err := url.Parse(c.Base)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("agent URL %q is not an http(s) URL such as http://%s: %w", c.Base, DefaultAddr, errs.ErrInvalid)
	}
	return nil
}

// do sends body (JSON unless nil) and decodes a 2xx answer into out (when
// out is non-nil). It returns the status code.
func (c *Client) do(ctx context.Context, method, path string, body, out any) (int, error) {
	if err := c.checkBase(); err != nil {
		return 0, err
	}
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return 0, err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, strings.TrimSuffix(c.Base, "/")+path, rd)
	if err != nil {
		return 0, err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if c.Token != "" {
		req.Header.Set(TokenHeader, c.Token)
	}
	hc, err := c.httpClient()
	if err != nil {
		return 0, err
	}
	resp, err := hc.Do(req)
	if err != nil {
		// url.Error repeats method and URL; keep only its cause.
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		if ctx.Err() != nil {
			return 0, fmt.Errorf("agent at %s: %w", c.Base, ctx.Err())
		}
		return 0, fmt.Errorf("agent at %s: %w: %w", c.Base, errs.ErrUnavailable, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode >= 300 {
		var eb ErrorBody
		raw, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
		if json.Unmarshal(raw, &eb) != nil || eb.Error.Code == "" {
			eb.Error = ErrorDetail{Code: "http", Message: strings.TrimSpace(string(raw))}
		}
		return resp.StatusCode, &APIError{Status: resp.StatusCode, ErrorDetail: eb.Error}
	}
	switch v := out.(type) {
	case nil:
	case *string:
		raw, err := io.ReadAll(resp.Body)
		*v = string(raw)
		return resp.StatusCode, err
	default:
		if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
			return resp.StatusCode, fmt.Errorf("agent answer to %s %s: %w", method, path, err)
		}
	}
	return resp.StatusCode, nil
}

func diskPath(instanceID, name string) string {
	return "/v1/disks/" + url.PathEscape(instanceID) + "/" + url.PathEscape(name)
}

// CreateDisk creates a disk; created is false when it already existed.
func (c *Client) CreateDisk(ctx context.Context, r CreateRequest) (d Disk, created bool, err error) {
	code, err := c.do(ctx, http.MethodPost, "/v1/disks", r, &d)
	return d, code == http.StatusCreated, err
}

// ListDisks lists the disks of one instance, or all when instanceID is "".
func (c *Client) ListDisks(ctx context.Context, instanceID string) ([]Disk, error) {
	var out []Disk
	path := "/v1/disks"
	if instanceID != "" {
		path += "?instance_id=" + url.QueryEscape(instanceID)
	}
	_, err := c.do(ctx, http.MethodGet, path, nil, &out)
	return out, err
}

// GetDisk reads one disk.
func (c *Client) GetDisk(ctx context.Context, instanceID, name string) (Disk, error) {
	var d Disk
	_, err := c.do(ctx, http.MethodGet, diskPath(instanceID, name), nil, &d)
	return d, err
}

// LibvirtXML is the disk's libvirt <disk> element; target may be "".
func (c *Client) LibvirtXML(ctx context.Context, instanceID, name, target string) (string, error) {
	var doc string
	path := diskPath(instanceID, name) + "/libvirt"
	if target != "" {
		path += "?target=" + url.QueryEscape(target)
	}
	_, err := c.do(ctx, http.MethodGet, path, nil, &doc)
	return doc, err
}

// Resize grows a disk.
func (c *Client) Resize(ctx context.Context, instanceID, name string, size uint64) (Disk, error) {
	var d Disk
	_, err := c.do(ctx, http.MethodPost, diskPath(instanceID, name)+"/resize", ResizeRequest{SizeBytes: size}, &d)
	return d, err
}

// Flatten detaches a disk from its parent.
func (c *Client) Flatten(ctx context.Context, instanceID, name string) (Disk, error) {
	var d Disk
	_, err := c.do(ctx, http.MethodPost, diskPath(instanceID, name)+"/flatten", nil, &d)
	return d, err
}

// DeleteDisk removes one disk.
func (c *Client) DeleteDisk(ctx context.Context, instanceID, name string) error {
	_, err := c.do(ctx, http.MethodDelete, diskPath(instanceID, name), nil, nil)
	return err
}

// DeleteInstance removes every disk of an instance.
func (c *Client) DeleteInstance(ctx context.Context, instanceID string) error {
	_, err := c.do(ctx, http.MethodDelete, "/v1/instances/"+url.PathEscape(instanceID)+"/disks", nil, nil)
	return err
}

// Cache lists the cached bases.
func (c *Client) Cache(ctx context.Context) ([]Base, error) {
	var out []Base
	_, err := c.do(ctx, http.MethodGet, "/v1/cache", nil, &out)
	return out, err
}

// Prune removes unused bases.
func (c *Client) Prune(ctx context.Context) (PruneResult, error) {
	return c.PruneWith(ctx, false, 0)
}

// Stats reads the agent's byte counters.
func (c *Client) Stats(ctx context.Context) (Stats, error) {
	var out Stats
	_, err := c.do(ctx, http.MethodGet, "/v1/stats", nil, &out)
	return out, err
}
