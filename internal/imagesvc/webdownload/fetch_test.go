package webdownload

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cowdisk/cowdisk/internal/errs"
)

// fakeDNS answers every name with fixed addresses: the tests need names
// that resolve to loopback or to a mix of public and private addresses.
type fakeDNS []netip.Addr

func (f fakeDNS) LookupNetIP(context.Context, string, string) ([]netip.Addr, error) { return f, nil }

// origin is a loopback HTTP server that counts the requests it saw.
type origin struct {
	*httptest.Server
	hits atomic.Int32
}

func newOrigin(t *testing.T, h http.HandlerFunc) *origin {
	o := &origin{}
	o.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		o.hits.Add(1)
		h(w, r)
	}))
	t.Cleanup(o.Close)
	return o
}

func fetcher(t *testing.T, allow []string, dns fakeDNS) *Fetcher {
	t.Helper()
	a, err := ParseAllow(allow)
	if err != nil {
		t.Fatal(err)
	}
	o := Options{Allow: a, MaxSize: 1 << 20, StallTimeout: 300 * time.Millisecond, Timeout: 10 * time.Second}
	if dns != nil {
		o.Resolver = dns
	}
	f, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func TestFetchAllowedLoopback(t *testing.T) {
	o := newOrigin(t, func(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, "image bytes") })
	// A name the real DNS does not know: the data can only arrive if the
	// connection goes to the address the check resolved.
	f := fetcher(t, []string{"images.test", "127.0.0.1"}, fakeDNS{netip.MustParseAddr("127.0.0.1")})
	port := o.URL[strings.LastIndex(o.URL, ":"):]
	for _, u := range []string{o.URL + "/f", "http://images.test" + port + "/f"} {
		b, err := f.Open(context.Background(), u)
		if err != nil {
			t.Fatalf("%s: %v", u, err)
		}
		data, err := io.ReadAll(b)
		b.Close()
		if err != nil || string(data) != "image bytes" || b.Size != 11 {
			t.Fatalf("%s: got %q size %d err %v", u, data, b.Size, err)
		}
	}
}

func TestFetchRefusedBeforeConnecting(t *testing.T) {
	o := newOrigin(t, func(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, "x") })
	port := o.URL[strings.LastIndex(o.URL, ":"):]
	mixed := fakeDNS{netip.MustParseAddr("8.8.8.8"), netip.MustParseAddr("127.0.0.1")}
	for _, tc := range []struct {
		name  string
		allow []string
		dns   fakeDNS
		url   string
		want  error
	}{
		{"scheme only admits public addresses", []string{"http:"}, nil, o.URL, errs.ErrRefused},
		{"host named but loopback not", []string{"images.test"}, fakeDNS{netip.MustParseAddr("127.0.0.1")},
			"http://images.test" + port, errs.ErrRefused},
		{"one private answer among public ones", []string{"images.test"}, mixed, "http://images.test" + port, errs.ErrRefused},
		{"link-local metadata address", []string{"http:"}, nil, "http://169.254.169.254/latest", errs.ErrRefused},
		{"private range", []string{"http:"}, nil, "http://10.1.2.3" + port, errs.ErrRefused},
		{"ipv6 loopback", []string{"http:"}, nil, "http://[::1]" + port, errs.ErrRefused},
		{"mapped ipv4 loopback", []string{"http:"}, nil, "http://[::ffff:127.0.0.1]" + port, errs.ErrRefused},
		{"host not listed", []string{"other.test"}, fakeDNS{netip.MustParseAddr("127.0.0.1")},
			"http://images.test" + port, errs.ErrRefused},
		{"prefix listed, name resolves outside", []string{"10.0.0.0/8"}, fakeDNS{netip.MustParseAddr("127.0.0.1")},
			"http://images.test" + port, errs.ErrRefused},
		{"scheme not listed", []string{"https:", "127.0.0.1"}, nil, o.URL, errs.ErrRefused},
		{"file scheme", []string{"127.0.0.1"}, nil, "file:///etc/passwd", errs.ErrRefused},
		{"not a URL", []string{"127.0.0.1"}, nil, "http://[::1", errs.ErrInvalid},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := fetcher(t, tc.allow, tc.dns).Open(context.Background(), tc.url)
			if !errors.Is(err, tc.want) {
				t.Fatalf("err = %v, want %v", err, tc.want)
			}
		})
	}
	if n := o.hits.Load(); n != 0 {
		t.Fatalf("refused URLs still reached the server %d times", n)
	}
}

func TestFetchHostileServers(t *testing.T) {
	// The redirect target listens on 127.0.0.2, which the allow-list
	// (127.0.0.1 only) does not cover.
	target := &origin{}
	target.Server = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		target.hits.Add(1)
		io.WriteString(w, "secret")
	}))
	ln, err := net.Listen("tcp", "127.0.0.2:0")
	if err != nil {
		t.Fatal(err)
	}
	target.Listener.Close()
	target.Listener = ln
	target.Start()
	t.Cleanup(target.Close)
	for _, tc := range []struct {
		name string
		h    http.HandlerFunc
		want error
	}{
		{"redirect to a host not allowed", func(w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, target.URL+"/", http.StatusFound)
		}, errs.ErrRefused},
		{"redirect to the metadata service", func(w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, "http://169.254.169.254/", http.StatusMovedPermanently)
		}, errs.ErrRefused},
		{"redirect loop", func(w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, r.URL.Path, http.StatusFound)
		}, errs.ErrInvalid},
		{"declared size above the cap", func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Length", "2000000")
			w.Write(make([]byte, 1000))
		}, errs.ErrInvalid},
		{"not found", func(w http.ResponseWriter, r *http.Request) { http.NotFound(w, r) }, errs.ErrInvalid},
		{"no answer", func(w http.ResponseWriter, r *http.Request) { <-r.Context().Done() }, errs.ErrUnavailable},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := newOrigin(t, tc.h)
			_, err := fetcher(t, []string{"127.0.0.1"}, nil).Open(context.Background(), o.URL+"/img")
			if !errors.Is(err, tc.want) {
				t.Fatalf("err = %v, want %v", err, tc.want)
			}
		})
	}
	if n := target.hits.Load(); n != 0 {
		t.Fatalf("a redirect reached a host that is not allowed %d times", n)
	}
}

func TestFetchStalledBody(t *testing.T) {
	o := newOrigin(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", "1000")
		w.Write(make([]byte, 10))
		w.(http.Flusher).Flush()
		<-r.Context().Done()
	})
	b, err := fetcher(t, []string{"127.0.0.1"}, nil).Open(context.Background(), o.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	n, err := io.Copy(io.Discard, b)
	if !errors.Is(err, errs.ErrTimeout) || n != 10 {
		t.Fatalf("read %d bytes, err %v; want 10 then a timeout", n, err)
	}
}

func TestRedactAndAllowList(t *testing.T) {
	if got := Redact("http://user:pw@h.test/a?token=x#f"); strings.Contains(got, "pw") ||
		strings.Contains(got, "user") || strings.Contains(got, "token") {
		t.Fatalf("Redact left secrets: %s", got)
	}
	for _, bad := range []string{"ftp:", "10.0.0.0/33", "user@host"} {
		if _, err := ParseAllow([]string{bad}); !errors.Is(err, errs.ErrInvalid) {
			t.Errorf("%q: err %v, want ErrInvalid", bad, err)
		}
	}
	if _, err := New(Options{}); !errors.Is(err, errs.ErrInvalid) {
		t.Fatalf("empty allow-list: err %v", err)
	}
}
