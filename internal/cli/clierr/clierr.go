// Package clierr is how the client commands (image, disk, cache) meet a
// person when something fails: a network error becomes "cannot reach X at
// URL" plus what to check, --json turns errors into {"error":{...}} on
// stderr, and --timeout bounds every call so a down cluster is a message,
// not silence.
package clierr

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/cowdisk/cowdisk/internal/errs"
)

// Service names the server a command group talks to, for hints.
type Service struct {
	What    string        // "node agent", "image service"
	URL     func() string // the URL in use, read after flag parsing
	Flags   string        // where the URL comes from: "--agent or COWDISK_AGENT"
	Start   string        // how to run one: "cowdisk serve node"
	Example string        // a valid URL: "http://127.0.0.1:9393"
}

// Friendly rewrites transport failures into what a person can act on; other
// errors pass unchanged. The result still wraps err for errors.Is.
func (s Service) Friendly(err error) error {
	if err == nil {
		return nil
	}
	var dns *net.DNSError
	var op *net.OpError
	switch {
	case errors.Is(err, syscall.ECONNREFUSED):
		return &hinted{err: err, msg: fmt.Sprintf("cannot reach %s: connection refused", s.name()),
			hint: fmt.Sprintf("is `%s` running there? The URL comes from %s", s.Start, s.Flags)}
	case errors.As(err, &dns):
		return &hinted{err: err, msg: fmt.Sprintf("cannot reach %s: unknown host %q", s.name(), dns.Name),
			hint: "check the host name in " + s.Flags}
	case errors.As(err, &op) && op.Op == "dial":
		return &hinted{err: err, msg: fmt.Sprintf("cannot reach %s: %v", s.name(), op.Err),
			hint: fmt.Sprintf("is `%s` running there and reachable? The URL comes from %s", s.Start, s.Flags)}
	case errors.Is(err, context.DeadlineExceeded):
		return &hinted{err: err, msg: fmt.Sprintf("gave up waiting for %s", s.name()),
			hint: "it may be waiting for Ceph: allow longer with --timeout"}
	}
	return err
}

// name is "the node agent at http://…", or without the URL when it is not
// known here (the image service from the Keystone catalog).
func (s Service) name() string {
	if u := s.URL(); u != "" {
		return "the " + s.What + " at " + u
	}
	return "the " + s.What
}

// checkURL refuses a URL that is not http(s)://host[:port][/path] before
// any request: net/http would read "127.0.0.1:9393" as scheme "127.0.0.1"
// and answer with parser internals. "" means the command picks a default.
func (s Service) checkURL() error {
	raw := s.URL()
	if raw == "" {
		return nil
	}
	u, err := url.Parse(raw)
	if err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != "" {
		return nil
	}
	return &hinted{err: fmt.Errorf("%s URL %q: %w", s.What, raw, errs.ErrInvalid),
		msg:  fmt.Sprintf("%s URL %q is not an http(s) URL such as %s", s.What, raw, s.Example),
		hint: "the URL comes from " + s.Flags}
}

// hinted is an error with a rewritten message and a next step.
type hinted struct {
	err       error
	msg, hint string
}

func (h *hinted) Error() string { return h.msg + "; " + h.hint }
func (h *hinted) Unwrap() error { return h.err }

// codes maps sentinels to the JSON error codes, first match wins.
var codes = []struct {
	err  error
	code string
}{
	{errs.ErrNotFound, "not_found"}, {errs.ErrInvalid, "invalid"}, {errs.ErrTooSmall, "invalid"},
	{errs.ErrBadLocation, "invalid"}, {errs.ErrConflict, "conflict"}, {errs.ErrExists, "conflict"},
	{errs.ErrInUse, "conflict"}, {errs.ErrBusy, "conflict"}, {errs.ErrPermission, "forbidden"},
	{errs.ErrChecksum, "checksum"}, {errs.ErrUnsafeImage, "image_refused"}, {errs.ErrFormatMismatch, "image_refused"},
	{errs.ErrRefused, "image_refused"}, {context.DeadlineExceeded, "timeout"}, {errs.ErrTimeout, "timeout"},
	{syscall.ECONNREFUSED, "unreachable"}, {errs.ErrUnavailable, "unavailable"}, {context.Canceled, "canceled"},
}

// Code is the short class of err used in JSON errors: the server's own code
// when it sent one, else one derived from the sentinel it wraps.
func Code(err error) string {
	var coded interface{ ErrorCode() string }
	if errors.As(err, &coded) {
		return coded.ErrorCode()
	}
	for _, c := range codes {
		if errors.Is(err, c.err) {
			return c.code
		}
	}
	return "error"
}

// Reported marks an error already written to stderr (as JSON), so the root
// command does not print it a second time.
type Reported struct{ Err error }

func (r *Reported) Error() string { return r.Err.Error() }
func (r *Reported) Unwrap() error { return r.Err }

// IsReported says whether err was already written out.
func IsReported(err error) bool {
	var r *Reported
	return errors.As(err, &r)
}

// WriteJSON writes err as {"error":{"code","message"}} to w and returns it
// marked as reported.
func WriteJSON(w io.Writer, err error) error {
	type detail struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	}
	b, _ := json.Marshal(struct {
		Error detail `json:"error"`
	}{detail{Code(err), err.Error()}})
	fmt.Fprintln(w, string(b))
	return &Reported{Err: err}
}

// Print writes err for a person: as JSON when the failed command has
// --json set (argument and required-flag errors never reach RunE, so
// Install's wrapper cannot catch them), else as one "cowdisk: ..." line.
// An error Install already wrote is not written again.
func Print(w io.Writer, failed *cobra.Command, err error) {
	if IsReported(err) {
		return
	}
	if failed != nil {
		if f := failed.Flags().Lookup("json"); f != nil && f.Value.String() == "true" {
			if Code(err) == "error" { // cobra's own: arguments, required flags
				err = usageError{err}
			}
			WriteJSON(w, err)
			return
		}
	}
	fmt.Fprintln(w, "cowdisk:", err)
}

// usageError is a mistake in the command line itself.
type usageError struct{ error }

func (u usageError) ErrorCode() string { return "invalid" }
func (u usageError) Unwrap() error     { return u.error }
