// Command roundrobin is the demo's load balancer: one loopback address in
// front of image service replicas, each request to the next replica, a
// replica that refuses connections skipped. For make demo-replicas only;
// production runs a real proxy (haproxy, nginx) with health checks.
//
//	go run ./scripts/roundrobin -listen 127.0.0.1:PORT http://127.0.0.1:A http://127.0.0.1:B
package main

import (
	"errors"
	"flag"
	"log"
	"net/http"
	"net/http/httputil"
	"net/url"
	"sync/atomic"
	"syscall"
	"time"
)

func main() {
	listen := flag.String("listen", "127.0.0.1:0", "address to listen on")
	flag.Parse()
	var backends []*url.URL
	for _, a := range flag.Args() {
		u, err := url.Parse(a)
		if err != nil {
			log.Fatalf("replica %q: %v", a, err)
		}
		backends = append(backends, u)
	}
	if len(backends) == 0 {
		log.Fatal("no replicas given")
	}
	var next atomic.Uint64
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// Bodies cannot be replayed, so only a refused connection (nothing
		// sent) moves on to the next replica.
		for range backends {
			u := backends[next.Add(1)%uint64(len(backends))]
			refused := false
			p := &httputil.ReverseProxy{
				Rewrite: func(pr *httputil.ProxyRequest) { pr.SetURL(u); pr.SetXForwarded() },
				ErrorHandler: func(w http.ResponseWriter, r *http.Request, err error) {
					if errors.Is(err, syscall.ECONNREFUSED) {
						refused = true
						return
					}
					http.Error(w, "replica: "+err.Error(), http.StatusBadGateway)
				},
			}
			p.ServeHTTP(w, r)
			if !refused {
				return
			}
		}
		http.Error(w, "no replica answers", http.StatusServiceUnavailable)
	})
	srv := &http.Server{Addr: *listen, Handler: h, ReadHeaderTimeout: 30 * time.Second}
	log.Fatal(srv.ListenAndServe())
}
