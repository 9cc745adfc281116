package api

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
)

// Glance's errors come from webob, which picks the body by the Accept
// header: HTML for text/html (and so for glanceclient's "*/*"), a flat
// {"message","code","title"} object for application/json (gophercloud,
// openstacksdk), plain text when there is no Accept header. glanceclient
// reads a JSON error as an object of objects and fails on the flat one with
// "'str' object has no attribute 'get'", which is why the media type must
// follow Accept exactly as Glance's does.
const (
	mediaHTML  = "text/html"
	mediaJSON  = "application/json"
	mediaPlain = "text/plain"
)

// htmlText escapes what could start markup in element text; quotes stay
// as they are, since glanceclient shows the text with tags stripped but
// entities not decoded.
var htmlText = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;")

// writeGlanceError writes one error in the shape the request asked for.
func writeGlanceError(w http.ResponseWriter, r *http.Request, code int, msg string) {
	st := fmt.Sprintf("%d %s", code, http.StatusText(code))
	var body string
	ctype := errorMedia(r.Header.Values("Accept"))
	switch ctype {
	case mediaHTML:
		body = "<html>\n <head>\n  <title>" + st + "</title>\n </head>\n <body>\n  <h1>" + st + "</h1>\n  " +
			htmlText.Replace(msg) + "<br /><br />\n\n\n\n </body>\n</html>"
		ctype += "; charset=UTF-8"
	case mediaJSON:
		b, _ := json.Marshal(map[string]string{"message": msg, "code": st, "title": http.StatusText(code)})
		body = string(b)
	default:
		body = st + "\n\n" + msg + "\n\n   "
		ctype += "; charset=UTF-8"
	}
	w.Header().Set("Content-Type", ctype)
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(code)
	w.Write([]byte(body))
}

// errorMedia negotiates as webob does for errors: of the offers text/html
// and application/json the one with the highest q wins (text/html on a
// tie), each offer taking the q of the most specific range matching it; no
// Accept header, or no acceptable offer, gives text/plain.
func errorMedia(accept []string) string {
	ranges := parseAccept(strings.Join(accept, ","))
	best, bestQ := mediaPlain, 0.0
	for _, offer := range []string{mediaHTML, mediaJSON} {
		if q := offerQ(ranges, offer); q > bestQ {
			best, bestQ = offer, q
		}
	}
	return best
}

type mediaRange struct {
	typ, sub string
	q        float64
}

// parseAccept reads "type/sub;q=0.5, ..." leniently: a malformed element
// is skipped, as it cannot match anything.
func parseAccept(h string) []mediaRange {
	var out []mediaRange
	for _, el := range strings.Split(h, ",") {
		parts := strings.Split(el, ";")
		typ, sub, ok := strings.Cut(strings.ToLower(strings.TrimSpace(parts[0])), "/")
		if !ok || typ == "" || sub == "" {
			continue
		}
		mr := mediaRange{typ: typ, sub: sub, q: 1}
		for _, p := range parts[1:] {
			k, v, _ := strings.Cut(strings.TrimSpace(p), "=")
			if strings.EqualFold(k, "q") {
				if q, err := strconv.ParseFloat(v, 64); err == nil && q >= 0 && q <= 1 {
					mr.q = q
				}
			}
		}
		out = append(out, mr)
	}
	return out
}

// offerQ is the q of the most specific range that matches offer (exact
// beats type/* beats */*), 0 when none does.
func offerQ(ranges []mediaRange, offer string) float64 {
	typ, sub, _ := strings.Cut(offer, "/")
	q, spec := 0.0, -1
	for _, r := range ranges {
		s := -1
		switch {
		case r.typ == typ && r.sub == sub:
			s = 2
		case r.typ == typ && r.sub == "*":
			s = 1
		case r.typ == "*" && r.sub == "*":
			s = 0
		}
		if s > spec {
			q, spec = r.q, s
		}
	}
	return q
}
