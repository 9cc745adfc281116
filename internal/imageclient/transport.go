package imageclient

import (
	"io"
	"net/http"
)

// maxErrorBody bounds what is read of an error answer. gophercloud reads
// the whole body of an answer with an unexpected status into memory (for
// the error's message, which translate cuts to 300 characters anyway):
// a hostile service's 404 of gigabytes would be read whole.
const maxErrorBody = 64 << 10

// boundErrors is a transport that cuts the body of every answer that is
// not a success to maxErrorBody bytes; successful answers are bounded by
// whoever reads them (readBounded, the provisioner's download bounds).
type boundErrors struct{ next http.RoundTripper }

func (b boundErrors) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := b.next.RoundTrip(req)
	if err == nil && resp.StatusCode >= 300 {
		resp.Body = limitedBody{Reader: io.LimitReader(resp.Body, maxErrorBody), Closer: resp.Body}
	}
	return resp, err
}

type limitedBody struct {
	io.Reader
	io.Closer
}

// withBoundedErrors wraps hc's transport (http.DefaultTransport if none).
func withBoundedErrors(hc http.Client) http.Client {
	next := hc.Transport
	if next == nil {
		next = http.DefaultTransport
	}
	hc.Transport = boundErrors{next: next}
	return hc
}
