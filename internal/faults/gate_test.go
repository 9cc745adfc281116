//go:build faults

package faults

import (
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"
)

// gate is a reverse proxy between the agent and the image service that can
// hold an image's download after a given number of bytes. It makes "kill X
// during the fallback import" exact: when the hold is reached, the agent has
// created its staged image and written part of the data into it, and
// nothing moves until the test releases the hold. The bytes are counted over
// every /file answer while the hold is armed: the sparse transfer fetches an
// image as many ranged GETs, none of them longer than a chunk.
type gate struct {
	srv  *httptest.Server
	mu   sync.Mutex
	next *hold
}

// hold is one armed pause.
type hold struct {
	after   int64
	reached chan struct{} // closed when `after` bytes have passed
	release chan struct{} // closed by the test to let the rest through
	once    sync.Once
	mu      sync.Mutex
	n       int64 // bytes passed, over all the answers it holds
	signal  sync.Once
}

func newGate(t testing.TB, target string) *gate {
	t.Helper()
	u, err := url.Parse(target)
	if err != nil {
		t.Fatal(err)
	}
	g := &gate{}
	rp := httputil.NewSingleHostReverseProxy(u)
	rp.FlushInterval = -1 // pass bytes on at once, so "after" is what the agent got
	rp.ModifyResponse = func(resp *http.Response) error {
		if resp.Request.Method == http.MethodGet && strings.HasSuffix(resp.Request.URL.Path, "/file") {
			if h := g.armed(); h != nil {
				resp.Body = &heldBody{ReadCloser: resp.Body, h: h}
			}
		}
		return nil
	}
	g.srv = httptest.NewServer(rp)
	t.Cleanup(func() {
		g.mu.Lock()
		if g.next != nil {
			g.next.open()
		}
		g.mu.Unlock()
		g.srv.CloseClientConnections()
		g.srv.Close()
	})
	return g
}

func (g *gate) url() string { return g.srv.URL }

// arm holds the next download after `after` bytes.
func (g *gate) arm(after int64) *hold {
	h := &hold{after: after, reached: make(chan struct{}), release: make(chan struct{})}
	g.mu.Lock()
	g.next = h
	g.mu.Unlock()
	return h
}

func (g *gate) armed() *hold {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.next
}

// wait blocks until the hold is reached, failing t after d.
func (h *hold) wait(t testing.TB, d time.Duration) {
	t.Helper()
	select {
	case <-h.reached:
	case <-time.After(d):
		t.Fatalf("the download never reached %d bytes within %s", h.after, d)
	}
}

func (h *hold) open() { h.once.Do(func() { close(h.release) }) }

// heldBody passes bytes until h.after have passed over all of h's answers,
// signals, and waits for release.
type heldBody struct {
	io.ReadCloser
	h *hold
}

func (b *heldBody) Read(p []byte) (int, error) {
	b.h.mu.Lock()
	rest := b.h.after - b.h.n
	b.h.mu.Unlock()
	if rest <= 0 {
		b.h.signal.Do(func() { close(b.h.reached) })
		<-b.h.release
		return b.ReadCloser.Read(p)
	}
	if int64(len(p)) > rest {
		p = p[:rest]
	}
	n, err := b.ReadCloser.Read(p)
	b.h.mu.Lock()
	b.h.n += int64(n)
	b.h.mu.Unlock()
	return n, err
}
