package webdownload

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strconv"
	"time"

	"github.com/cowdisk/cowdisk/internal/errs"
)

// Defaults for Options' zero values.
const (
	DefaultTimeout      = time.Hour
	DefaultStallTimeout = time.Minute
	maxRedirects        = 3
)

// Options bound a Fetcher.
type Options struct {
	Allow Allow
	// MaxSize refuses a declared Content-Length above it before reading;
	// the caller bounds the bytes actually read (it knows the image cap).
	MaxSize int64
	// Timeout bounds a whole download, StallTimeout the wait for the
	// response headers and for each read of the body.
	Timeout, StallTimeout time.Duration
	// Resolver looks names up; nil means net.DefaultResolver.
	Resolver interface {
		LookupNetIP(ctx context.Context, network, host string) ([]netip.Addr, error)
	}
}

// Fetcher downloads from admitted URLs. It is safe for concurrent use.
type Fetcher struct{ o Options }

// New returns a Fetcher; an empty allow-list is refused (the caller then
// does not offer web-download at all).
func New(o Options) (*Fetcher, error) {
	if o.Allow.Empty() {
		return nil, fmt.Errorf("web-download: empty allow-list: %w", errs.ErrInvalid)
	}
	if o.Timeout <= 0 {
		o.Timeout = DefaultTimeout
	}
	if o.StallTimeout <= 0 {
		o.StallTimeout = DefaultStallTimeout
	}
	if o.Resolver == nil {
		o.Resolver = net.DefaultResolver
	}
	return &Fetcher{o: o}, nil
}

// Body is a download in progress. Size is the declared length or -1.
type Body struct {
	io.Reader
	Size  int64
	close func()
}

// Close ends the download and releases its timers and connection.
func (b *Body) Close() error { b.close(); return nil }

// target is a URL whose host has been checked, with the one address every
// connection for it goes to.
type target struct {
	u    *url.URL
	addr netip.AddrPort
}

// Check admits or refuses raw without connecting anywhere: the scheme and
// host against the allow-list, then every address the name resolves to.
func (f *Fetcher) Check(ctx context.Context, raw string) error {
	_, err := f.check(ctx, raw)
	return err
}

func (f *Fetcher) check(ctx context.Context, raw string) (target, error) {
	u, err := url.Parse(raw)
	if err != nil || u.Opaque != "" {
		return target{}, fmt.Errorf("web-download: %s is not a URL: %w", Redact(raw), errs.ErrInvalid)
	}
	mustCover, err := f.o.Allow.admitURL(u)
	if err != nil {
		return target{}, fmt.Errorf("web-download from %s: %w", Redact(raw), err)
	}
	port := 80
	if u.Scheme == "https" {
		port = 443
	}
	if p := u.Port(); p != "" {
		if port, err = strconv.Atoi(p); err != nil || port < 1 || port > 65535 {
			return target{}, fmt.Errorf("web-download from %s: bad port: %w", Redact(raw), errs.ErrInvalid)
		}
	}
	addrs, err := f.resolve(ctx, u.Hostname())
	if err != nil {
		return target{}, fmt.Errorf("web-download from %s: %w", Redact(raw), err)
	}
	// Every address must pass: an attacker's name may answer one public
	// and one private address and let the dialer pick.
	for _, a := range addrs {
		if err := f.o.Allow.admitAddr(a, mustCover); err != nil {
			return target{}, fmt.Errorf("web-download from %s: %w", Redact(raw), err)
		}
	}
	return target{u: u, addr: netip.AddrPortFrom(addrs[0].Unmap(), uint16(port))}, nil
}

func (f *Fetcher) resolve(ctx context.Context, host string) ([]netip.Addr, error) {
	if ip, err := netip.ParseAddr(host); err == nil {
		return []netip.Addr{ip}, nil
	}
	ctx, cancel := context.WithTimeout(ctx, f.o.StallTimeout)
	defer cancel()
	addrs, err := f.o.Resolver.LookupNetIP(ctx, "ip", host)
	if err == nil && len(addrs) == 0 {
		err = errors.New("no addresses")
	}
	if err != nil {
		return nil, fmt.Errorf("resolving %s: %v: %w", host, err, errs.ErrInvalid)
	}
	return addrs, nil
}

// Open checks raw and starts the download. Redirects are followed (at most
// maxRedirects) only to URLs that pass the same check.
func (f *Fetcher) Open(ctx context.Context, raw string) (*Body, error) {
	ctx, cancel := context.WithTimeout(ctx, f.o.Timeout)
	for range maxRedirects + 1 {
		t, err := f.check(ctx, raw)
		if err != nil {
			cancel()
			return nil, err
		}
		resp, err := f.get(ctx, t)
		if err != nil {
			cancel()
			return nil, err
		}
		if loc := resp.Header.Get("Location"); isRedirect(resp.StatusCode) && loc != "" {
			resp.Body.Close()
			next, err := t.u.Parse(loc)
			if err != nil {
				cancel()
				return nil, fmt.Errorf("web-download from %s: bad redirect: %w", Redact(raw), errs.ErrInvalid)
			}
			raw = next.String()
			continue
		}
		if err := f.accept(resp, raw); err != nil {
			resp.Body.Close()
			cancel()
			return nil, err
		}
		return f.body(ctx, cancel, resp), nil
	}
	cancel()
	return nil, fmt.Errorf("web-download: more than %d redirects: %w", maxRedirects, errs.ErrInvalid)
}

func isRedirect(code int) bool { return code >= 300 && code < 400 }

// get sends one request that connects to t.addr only, whatever the name.
func (f *Fetcher) get(ctx context.Context, t target) (*http.Response, error) {
	d := &net.Dialer{Timeout: f.o.StallTimeout}
	tr := &http.Transport{
		Proxy: nil, // a proxy would make its own, unchecked, connection
		DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
			return d.DialContext(ctx, network, t.addr.String())
		},
		ResponseHeaderTimeout: f.o.StallTimeout,
		TLSHandshakeTimeout:   f.o.StallTimeout,
		DisableKeepAlives:     true,
	}
	cl := &http.Client{Transport: tr,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, t.u.String(), nil)
	if err != nil {
		return nil, fmt.Errorf("web-download from %s: %v: %w", Redact(t.u.String()), err, errs.ErrInvalid)
	}
	resp, err := cl.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // its text repeats the URL, userinfo included
		}
		return nil, fmt.Errorf("web-download from %s: %v: %w", Redact(t.u.String()), err, errs.ErrUnavailable)
	}
	return resp, nil
}

func (f *Fetcher) accept(resp *http.Response, raw string) error {
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("web-download from %s: server answered %s: %w", Redact(raw), resp.Status, errs.ErrInvalid)
	}
	if f.o.MaxSize > 0 && resp.ContentLength > f.o.MaxSize {
		return fmt.Errorf("web-download from %s: %d bytes exceed the limit of %d: %w",
			Redact(raw), resp.ContentLength, f.o.MaxSize, errs.ErrInvalid)
	}
	return nil
}

// body wraps the response so that a read waiting longer than the stall
// timeout ends the download.
func (f *Fetcher) body(ctx context.Context, cancel context.CancelFunc, resp *http.Response) *Body {
	s := &stallReader{r: resp.Body, timer: time.AfterFunc(f.o.StallTimeout, cancel), d: f.o.StallTimeout, ctx: ctx}
	return &Body{Reader: s, Size: resp.ContentLength, close: func() {
		s.timer.Stop()
		cancel()
		resp.Body.Close()
	}}
}

type stallReader struct {
	r     io.Reader
	timer *time.Timer
	d     time.Duration
	ctx   context.Context
}

func (s *stallReader) Read(p []byte) (int, error) {
	n, err := s.r.Read(p)
	if n > 0 {
		s.timer.Reset(s.d)
	}
	if err != nil && err != io.EOF && s.ctx.Err() != nil {
		err = fmt.Errorf("web-download stalled or took too long: %w", errs.ErrTimeout)
	}
	return n, err
}
