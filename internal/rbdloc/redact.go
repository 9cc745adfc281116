package rbdloc

import (
	"net/url"
	"regexp"
)

// userinfoRE finds "scheme://userinfo@" anywhere in a text: the authority
// runs to the first '/', '?', '#' or space, and everything in it up to its
// last '@' is userinfo (a password may itself contain '@').
var userinfoRE = regexp.MustCompile(`([A-Za-z][A-Za-z0-9+.-]*://)[^/?#\s]*@`)

// Redact removes the user and password of every URL in s (a location, or a
// message quoting one), so that no answer or log line repeats credentials
// an image record carried. Percent-encoded text is decoded first when it
// decodes, so "%40" cannot hide an '@'.
func Redact(s string) string {
	if u, err := url.PathUnescape(s); err == nil && u != s {
		if r := userinfoRE.ReplaceAllString(u, "$1"); r != u {
			s = r
		}
	}
	return userinfoRE.ReplaceAllString(s, "$1")
}
