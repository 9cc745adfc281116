// Package rbdloc parses and formats RBD image locations of the form
// rbd://<fsid>/<pool>/<image>/<snapshot>, the form glance_store writes into
// an image's locations. Each part is URL-quoted, so a part may contain
// spaces or non-ASCII letters, but never a character that would make the
// location ambiguous once decoded.
package rbdloc

import (
	"fmt"
	"net/url"
	"strings"

	"github.com/cowdisk/cowdisk/internal/errs"
)

// Scheme is the only accepted URL scheme, with its separator.
const Scheme = "rbd://"

// Location names one snapshot of one RBD image in one cluster.
type Location struct {
	FSID, Pool, Image, Snapshot string
}

// Parse reads a location. Every error wraps errs.ErrBadLocation and says why
// the string was refused, so callers can log the reason a location was not
// used for cloning.
func Parse(s string) (Location, error) {
	parts, err := split(s)
	if err != nil {
		return Location{}, fmt.Errorf("%w: %q: %s", errs.ErrBadLocation, Shown(s), err)
	}
	l := Location{FSID: parts[0], Pool: parts[1], Image: parts[2], Snapshot: parts[3]}
	if err := l.Validate(); err != nil {
		return Location{}, fmt.Errorf("%q: %w", Shown(s), err)
	}
	return l, nil
}

// Shown is a location as a message may quote it: without credentials, and
// not at all when an '@' is left anywhere (text before it may be a user and
// password even where a URL parser would not call it userinfo).
func Shown(s string) string {
	r := Redact(s)
	if u, err := url.PathUnescape(r); strings.Contains(r, "@") || (err == nil && strings.Contains(u, "@")) {
		return Scheme + "(location with '@', not shown)"
	}
	return r
}

// split checks the outer shape of s and returns its four decoded parts.
func split(s string) ([]string, error) {
	if !strings.HasPrefix(s, Scheme) {
		return nil, fmt.Errorf("scheme is not %s", Scheme)
	}
	// A query or fragment has no meaning here; glance_store would treat it
	// as part of the snapshot name, which is never what the writer meant.
	if strings.ContainsAny(s, "?#") {
		return nil, fmt.Errorf("query or fragment not allowed")
	}
	raw := strings.Split(s[len(Scheme):], "/")
	if len(raw) == 1 {
		// rbd://<image> is glance_store's legacy form: it names no
		// cluster, so it can never be trusted for a clone.
		return nil, fmt.Errorf("legacy one-part form names no cluster, pool or snapshot")
	}
	if len(raw) != 4 {
		return nil, fmt.Errorf("want 4 parts fsid/pool/image/snapshot, got %d", len(raw))
	}
	parts := make([]string, len(raw))
	for i, r := range raw {
		p, err := url.PathUnescape(r)
		if err != nil {
			return nil, fmt.Errorf("part %d: %v", i+1, err)
		}
		parts[i] = p
	}
	return parts, nil
}

// Validate reports whether every part is usable as a Ceph name: not blank,
// and free of '/', '@' and NUL, which would change the meaning of an
// image spec (pool/image@snap) or truncate a C string in librbd.
func (l Location) Validate() error {
	for _, f := range []struct{ name, value string }{
		{"fsid", l.FSID}, {"pool", l.Pool}, {"image", l.Image}, {"snapshot", l.Snapshot},
	} {
		if f.value == "" {
			return fmt.Errorf("%w: blank %s", errs.ErrBadLocation, f.name)
		}
		if strings.Contains(f.value, "@") {
			// Not quoted: text before an "@" may be a user and password.
			return fmt.Errorf("%w: %s contains '@'", errs.ErrBadLocation, f.name)
		}
		if i := strings.IndexAny(f.value, "/\x00"); i >= 0 {
			return fmt.Errorf("%w: %s %q contains %q", errs.ErrBadLocation, f.name, f.value, f.value[i])
		}
	}
	return nil
}

// String formats l as rbd://fsid/pool/image/snapshot with every part
// path-escaped, so Parse(l.String()) == l for every valid l.
func (l Location) String() string {
	return Scheme + url.PathEscape(l.FSID) + "/" + url.PathEscape(l.Pool) + "/" +
		url.PathEscape(l.Image) + "/" + url.PathEscape(l.Snapshot)
}
