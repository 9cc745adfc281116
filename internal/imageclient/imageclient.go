// Package imageclient is the one way cowdisk talks to a Glance v2 image
// service, its own or OpenStack's: a small interface over gophercloud, so
// callers (the CLI, the provisioner) neither build URLs nor parse JSON.
package imageclient

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/gophercloud/gophercloud/v2"

	"github.com/cowdisk/cowdisk/internal/errs"
)

// Client is a Glance v2 images client. Errors wrap errs sentinels
// (ErrNotFound, ErrConflict, ErrPermission, ErrInvalid, ErrUnavailable).
type Client interface {
	Get(ctx context.Context, id string) (Image, error)
	// List returns every image matching o, following next links.
	List(ctx context.Context, o ListOptions) ([]Image, error)
	Create(ctx context.Context, o CreateOptions) (Image, error)
	// Upload sends r as the image data; size is its length or -1 when
	// unknown (the body is then sent chunked).
	Upload(ctx context.Context, id string, r io.Reader, size int64) error
	// Download streams the image data; the caller closes it. An image
	// without data is errs.ErrNotFound.
	Download(ctx context.Context, id string) (io.ReadCloser, error)
	Delete(ctx context.Context, id string) error
	Update(ctx context.Context, id string, u Update) (Image, error)
}

// Image is an image record. Locations and DirectURL are filled only when
// the service shows them to this caller (service or admin role).
type Image struct {
	ID              string            `json:"id"`
	Name            string            `json:"name"`
	Status          string            `json:"status"`
	DiskFormat      string            `json:"disk_format"`
	ContainerFormat string            `json:"container_format"`
	Size            int64             `json:"size"`
	VirtualSize     int64             `json:"virtual_size"`
	Checksum        string            `json:"checksum"`
	OSHashAlgo      string            `json:"os_hash_algo"`
	OSHashValue     string            `json:"os_hash_value"`
	Owner           string            `json:"owner"`
	Visibility      string            `json:"visibility"`
	Protected       bool              `json:"protected"`
	MinDisk         int               `json:"min_disk"`
	MinRAM          int               `json:"min_ram"`
	Tags            []string          `json:"tags"`
	Properties      map[string]string `json:"properties,omitempty"`
	DirectURL       string            `json:"direct_url,omitempty"`
	Locations       []Location        `json:"locations,omitempty"`
	CreatedAt       time.Time         `json:"created_at"`
	UpdatedAt       time.Time         `json:"updated_at"`
}

// Location is one place the service keeps the data.
type Location struct {
	URL      string         `json:"url"`
	Metadata map[string]any `json:"metadata"`
}

// CreateOptions describe a new image; empty fields are left to the service.
type CreateOptions struct {
	ID, Name, DiskFormat, ContainerFormat, Visibility string
	Tags                                              []string
	MinDisk, MinRAM                                   int
	Protected                                         bool
	Properties                                        map[string]string
}

// ListOptions filter a list; empty fields do not filter.
type ListOptions struct {
	Name, Status, Visibility, Owner, DiskFormat string
	Tags                                        []string
	SortKey, SortDir                            string
	PageSize                                    int // per request; 0: the service's default
	Max                                         int // stop after this many; 0: all
}

// Update changes an image; nil fields stay as they are.
type Update struct {
	Name, Visibility *string
	Tags             []string // replaces all tags when not nil
	MinDisk, MinRAM  *int
	Protected        *bool
	Set              map[string]string // custom properties to add or replace
	Remove           []string          // custom properties to remove
}

// Options tune New.
type Options struct {
	HTTPClient *http.Client // default: Pooled(nil): the default transport keeping more idle connections, no overall timeout
	UserAgent  string
	// MaxRecord bounds one image record read by Get (0: DefaultMaxRecord).
	MaxRecord int64
	// MaxList bounds the answers of one List, all pages together
	// (0: DefaultMaxList).
	MaxList int64
}

// New returns a client for the Glance endpoint (with or without a trailing
// /v2) that sends token as X-Auth-Token.
func New(endpoint, token string, o Options) (Client, error) {
	base, err := normalize(endpoint)
	if err != nil {
		return nil, err
	}
	pc := &gophercloud.ProviderClient{}
	o.setUp(pc)
	pc.SetToken(token)
	return o.glanceAt(pc, base), nil
}

// setUp gives pc the options' HTTP client (the pooled one by default) with
// error answers bounded, and their user agent.
func (o Options) setUp(pc *gophercloud.ProviderClient) {
	pc.HTTPClient = *pooled
	if o.HTTPClient != nil {
		pc.HTTPClient = *o.HTTPClient
	}
	pc.HTTPClient = withBoundedErrors(pc.HTTPClient)
	if o.UserAgent != "" {
		pc.UserAgent.Prepend(o.UserAgent)
	}
}

// glanceAt is the client of the image service at base (normalized) over pc.
func (o Options) glanceAt(pc *gophercloud.ProviderClient, base string) *glance {
	return o.glanceWith(&gophercloud.ServiceClient{ProviderClient: pc, Endpoint: base, ResourceBase: base + "v2/", Type: "image"})
}

func (o Options) glanceWith(sc *gophercloud.ServiceClient) *glance {
	return &glance{maxRecord: o.MaxRecord, maxList: o.MaxList, sc: sc}
}

// IdleConnsPerHost is how many idle connections to the image service a
// client keeps: a node makes up to 32 disks at once and each reads the
// image record (twice with caller tokens). net/http's default keeps 2, so
// in a boot storm nearly every read dialled a new connection and left one
// in TIME_WAIT.
const IdleConnsPerHost = 64

// pooled is the client New and NewKeystone use when Options has none.
var pooled = Pooled(nil)

// Pooled returns a client like hc (nil: http.DefaultClient) whose transport
// keeps IdleConnsPerHost idle connections per host. The transport is a
// clone when hc's is an *http.Transport (hc is not changed); another kind
// of transport is kept as it is. Make it once and share it: the pool
// belongs to the transport.
func Pooled(hc *http.Client) *http.Client {
	out := &http.Client{}
	if hc != nil {
		*out = *hc
	}
	rt := out.Transport
	if rt == nil {
		rt = http.DefaultTransport
	}
	if t, ok := rt.(*http.Transport); ok {
		t = t.Clone()
		t.MaxIdleConnsPerHost = max(t.MaxIdleConnsPerHost, IdleConnsPerHost)
		t.MaxIdleConns = max(t.MaxIdleConns, 4*IdleConnsPerHost)
		rt = t
	}
	out.Transport = rt
	return out
}

// normalize turns "http://h:9292", ".../v2" or ".../v2/" into "http://h:9292/".
func normalize(endpoint string) (string, error) {
	if endpoint == "" {
		return "", fmt.Errorf("image service endpoint not set: %w", errs.ErrInvalid)
	}
	base := strings.TrimSuffix(strings.TrimSuffix(endpoint, "/"), "/v2") + "/"
	if !strings.HasPrefix(base, "http://") && !strings.HasPrefix(base, "https://") {
		return "", fmt.Errorf("image service endpoint %q is not an http(s) URL: %w", endpoint, errs.ErrInvalid)
	}
	return base, nil
}

// translate turns gophercloud's HTTP errors into sentinels, with the
// service's message.
func translate(err error, what string) error {
	if err == nil {
		return nil
	}
	var ue gophercloud.ErrUnexpectedResponseCode
	switch {
	case errors.Is(err, context.Canceled):
		// Our caller gave up: the service is not to blame, so not
		// ErrUnavailable (no 503 from the agent, "canceled" in the CLI).
		return fmt.Errorf("%s: %w", what, err)
	case !errors.As(err, &ue):
		return fmt.Errorf("%s: %w: %w", what, errs.ErrUnavailable, err)
	}
	var s error
	switch code := ue.Actual; {
	case code == http.StatusNotFound, code == http.StatusGone:
		s = errs.ErrNotFound
	case code == http.StatusConflict:
		s = errs.ErrConflict
	case code == http.StatusUnauthorized, code == http.StatusForbidden:
		s = errs.ErrPermission
	case code >= 500:
		s = errs.ErrUnavailable
	default:
		s = errs.ErrInvalid
	}
	what, msg := dedupe(what, message(ue.Body), s)
	return &statusError{what: what, code: ue.Actual, msg: msg, sentinel: s}
}

// statusError is an HTTP error answer: what we tried, what the service
// said, its status. The sentinel is matched by errors.Is but not printed:
// the service's message already says it.
type statusError struct {
	what, msg string
	code      int
	sentinel  error
}

func (e *statusError) Error() string { return fmt.Sprintf("%s: %s (HTTP %d)", e.what, e.msg, e.code) }
func (e *statusError) Unwrap() error { return e.sentinel }

// dedupe names the object once: "get image X" with "image X: not found"
// gives "get image X: not found", with Glance's "No image found with ID X"
// it gives "get image: No image found with ID X".
func dedupe(what, msg string, sentinel error) (string, string) {
	if msg == "" {
		return what, sentinel.Error()
	}
	words := strings.Fields(what)
	if len(words) < 3 { // "list images": no object named
		return what, msg
	}
	id := words[len(words)-1]
	if head, rest, ok := strings.Cut(msg, ": "); ok && rest != "" && strings.Contains(head, id) {
		return what, rest
	}
	if strings.Contains(msg, id) {
		return strings.Join(words[:len(words)-1], " "), msg
	}
	return what, msg
}

// oneLine turns Glance's "No image found with ID X<br /><br />\n\n\n" into
// "No image found with ID X".
func oneLine(s string) string {
	return strings.Join(strings.Fields(strings.ReplaceAll(s, "<br />", " ")), " ")
}

// message pulls "message" out of a Glance error body, or returns the body.
func message(body []byte) string {
	var m struct {
		Message string `json:"message"`
	}
	if json.Unmarshal(body, &m) == nil && m.Message != "" {
		return oneLine(m.Message)
	}
	s := oneLine(string(body))
	if len(s) > 300 {
		s = s[:300] + "..."
	}
	return s
}
