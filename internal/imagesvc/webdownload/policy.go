// Package webdownload fetches image data for Glance's web-download import
// method without letting a tenant turn the image service into a proxy into
// the operator's network (SSRF): only URLs the operator's allow-list admits
// are fetched, the check is made on the resolved address before any
// connection, the connection goes to exactly that checked address (so a
// second DNS answer cannot rebind it), redirects are checked again, and
// size and time are bounded.
package webdownload

import (
	"fmt"
	"net/netip"
	"net/url"
	"slices"
	"strings"

	"github.com/cowdisk/cowdisk/internal/errs"
)

// Allow is the operator's allow-list. Entries are schemes written with a
// trailing colon ("https:"), host names ("mirror.example.org"), addresses
// ("127.0.0.1") or prefixes ("10.1.0.0/16"). A URL is admitted when its
// scheme is http or https, is listed (when any scheme is listed) and its
// host is listed (when any host, address or prefix is listed). An empty
// list admits nothing. Loopback, private, link-local and other non-global
// addresses are admitted only when an address or prefix entry covers
// them: naming a host does not open the private ranges.
type Allow struct {
	schemes  []string
	hosts    []string
	prefixes []netip.Prefix
}

// ParseAllow reads allow-list entries, refusing ones it cannot read.
func ParseAllow(entries []string) (Allow, error) {
	var a Allow
	for _, e := range entries {
		e = strings.ToLower(strings.TrimSpace(e))
		switch {
		case e == "":
		case strings.HasSuffix(e, ":"):
			s := strings.TrimSuffix(e, ":")
			if s != "http" && s != "https" {
				return a, fmt.Errorf("web-download allow-list: scheme %q (want http: or https:): %w", e, errs.ErrInvalid)
			}
			a.schemes = append(a.schemes, s)
		case strings.Contains(e, "/"):
			p, err := netip.ParsePrefix(e)
			if err != nil {
				return a, fmt.Errorf("web-download allow-list: prefix %q: %v: %w", e, err, errs.ErrInvalid)
			}
			a.prefixes = append(a.prefixes, p.Masked())
		default:
			if ip, err := netip.ParseAddr(e); err == nil {
				a.prefixes = append(a.prefixes, netip.PrefixFrom(ip.Unmap(), ip.Unmap().BitLen()))
				continue
			}
			if strings.ContainsAny(e, ":@ ?#") {
				return a, fmt.Errorf("web-download allow-list: %q is not a host name: %w", e, errs.ErrInvalid)
			}
			a.hosts = append(a.hosts, strings.TrimSuffix(e, "."))
		}
	}
	return a, nil
}

// Empty reports whether the list admits nothing (the method is off).
func (a Allow) Empty() bool {
	return len(a.schemes) == 0 && len(a.hosts) == 0 && len(a.prefixes) == 0
}

// admitURL checks scheme and host before any name is resolved. mustCover
// says the host was admitted only pending its address: then the resolved
// address must lie in a listed prefix.
func (a Allow) admitURL(u *url.URL) (mustCover bool, err error) {
	if u.Scheme != "http" && u.Scheme != "https" {
		return false, fmt.Errorf("scheme %q is not http or https: %w", u.Scheme, errs.ErrRefused)
	}
	if len(a.schemes) > 0 && !slices.Contains(a.schemes, u.Scheme) {
		return false, fmt.Errorf("scheme %s is not in the allow-list: %w", u.Scheme, errs.ErrRefused)
	}
	host := strings.TrimSuffix(strings.ToLower(u.Hostname()), ".")
	switch {
	case host == "":
		return false, fmt.Errorf("URL has no host: %w", errs.ErrInvalid)
	case len(a.hosts) == 0 && len(a.prefixes) == 0: // schemes only: public addresses only
		return false, nil
	case slices.Contains(a.hosts, host):
		return false, nil
	case len(a.prefixes) > 0:
		return true, nil
	}
	return false, fmt.Errorf("host %s is not in the allow-list: %w", host, errs.ErrRefused)
}

// admitAddr checks one resolved address of an admitted URL.
func (a Allow) admitAddr(ip netip.Addr, mustCover bool) error {
	ip = ip.Unmap()
	switch {
	case a.covers(ip):
		return nil
	case mustCover:
		return fmt.Errorf("address %s is not in the allow-list: %w", ip, errs.ErrRefused)
	case !global(ip):
		return fmt.Errorf("address %s is loopback, private or link-local and the allow-list does not name it: %w",
			ip, errs.ErrRefused)
	}
	return nil
}

func (a Allow) covers(ip netip.Addr) bool {
	for _, p := range a.prefixes {
		if p.Contains(ip.Unmap()) {
			return true
		}
	}
	return false
}

// cgnat is the shared address space (RFC 6598), private in practice.
var cgnat = netip.MustParsePrefix("100.64.0.0/10")

// global reports whether ip is a public unicast address.
func global(ip netip.Addr) bool {
	return ip.IsGlobalUnicast() && !ip.IsPrivate() && !cgnat.Contains(ip) && !ip.IsLoopback() &&
		!ip.IsLinkLocalUnicast()
}

// Redact returns u without userinfo, query and fragment, for messages and
// logs: those parts may carry credentials.
func Redact(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(unparsable URL)"
	}
	r := url.URL{Scheme: u.Scheme, Host: u.Host, Path: u.Path}
	return r.String()
}
