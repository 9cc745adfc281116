package imageclient

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptrace"
	"sync"
	"sync/atomic"
	"testing"
)

// Bursts of 32 reads at once, as boot storms make, are served by the
// connections of the bursts before: over five bursts the client dials
// about as many connections as one burst needs. With net/http's default
// of 2 idle connections per host it dialled most of each burst's anew
// (134 and 147 connections for the five bursts, measured).
func TestReadsReuseConnections(t *testing.T) {
	ctx := context.Background()
	url := serve(t)
	c := must(New(url, "member", Options{}))
	img := must(c.Create(ctx, CreateOptions{Name: "pool", DiskFormat: "raw", ContainerFormat: "bare"}))
	if err := c.Upload(ctx, img.ID, bytes.NewReader([]byte("data")), 4); err != nil {
		t.Fatal(err)
	}
	const burst = 32
	var fresh atomic.Int64
	trace := httptrace.WithClientTrace(ctx, &httptrace.ClientTrace{GotConn: func(i httptrace.GotConnInfo) {
		if !i.Reused {
			fresh.Add(1)
		}
	}})
	read := func() {
		var wg sync.WaitGroup
		for range burst {
			wg.Go(func() {
				if _, err := c.Get(trace, img.ID); err != nil {
					t.Error(err)
				}
			})
		}
		wg.Wait()
	}
	const bursts = 5
	for range bursts {
		read()
	}
	// Not exactly burst: a dial may finish after an idle connection served
	// the request that waited for it; that connection is kept too.
	if n := fresh.Load(); n > 2*burst {
		t.Errorf("%d bursts of %d reads dialled %d connections, want at most %d", bursts, burst, n, 2*burst)
	}
}

// Pooled keeps the caller's transport settings and raises only the idle
// connections; a client without a transport gets the default one's clone.
func TestPooled(t *testing.T) {
	base := &http.Transport{MaxIdleConnsPerHost: 1, DisableCompression: true}
	for name, hc := range map[string]*http.Client{"nil": nil, "no transport": {}, "own transport": {Transport: base}} {
		tr, ok := Pooled(hc).Transport.(*http.Transport)
		if !ok || tr.MaxIdleConnsPerHost != IdleConnsPerHost || tr == http.DefaultTransport || tr == base {
			t.Errorf("%s: %+v", name, tr)
		}
		if hc != nil && hc.Transport == base && !tr.DisableCompression {
			t.Errorf("%s: the transport's own settings were lost", name)
		}
	}
	if base.MaxIdleConnsPerHost != 1 {
		t.Error("the caller's transport was changed")
	}
}
