package agent_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"testing"

	"github.com/cowdisk/cowdisk/internal/agent"
	"github.com/cowdisk/cowdisk/internal/imageclient"
	"github.com/cowdisk/cowdisk/internal/imagesvc/auth"
	"github.com/cowdisk/cowdisk/internal/imagesvc/imagesvctest"
	"github.com/cowdisk/cowdisk/internal/provisioner"
	"github.com/cowdisk/cowdisk/internal/tlsconf"
	"github.com/cowdisk/cowdisk/internal/tlsconf/tlstest"
)

// The agent reads image records from an https image service when it
// trusts the service's CA (serve node --cacert), as the caller and as
// itself, and refuses a service whose certificate chains to another CA.
func TestAgentImageClientTLS(t *testing.T) {
	tokens, err := auth.NewTokens(testTokens)
	if err != nil {
		t.Fatal(err)
	}
	plain := imagesvctest.Serve(t, tokens)
	ca, other := tlstest.NewCA(t, "images-ca"), tlstest.NewCA(t, "other-ca")
	cert, key := ca.Issue(t, "images")
	// TLS in front of the real service, as a terminating proxy would be.
	target, _ := url.Parse(plain)
	front := httptest.NewUnstartedServer(httputil.NewSingleHostReverseProxy(target))
	if front.TLS, err = tlsconf.Server(cert, key); err != nil {
		t.Fatal(err)
	}
	front.StartTLS()
	defer front.Close()

	ctx := context.Background()
	ic, err := imageclient.New(plain, "p1", imageclient.Options{})
	if err != nil {
		t.Fatal(err)
	}
	img, err := ic.Create(ctx, imageclient.CreateOptions{Name: "tls", DiskFormat: "raw", ContainerFormat: "bare"})
	if err != nil {
		t.Fatal(err)
	}
	for name, tc := range map[string]struct {
		caFile string
		want   int // the agent's answer to p1 creating a disk of the image
	}{
		// Both views read over TLS: the image has no data yet, so 409.
		"trusted CA": {ca.File, http.StatusConflict},
		"other CA":   {other.File, http.StatusBadGateway},
	} {
		hc, err := tlsconf.HTTPClient(tc.caFile)
		if err != nil {
			t.Fatal(err)
		}
		src, err := newCallerSource(t, front.URL, "svc", imageclient.Options{HTTPClient: hc})
		if err != nil {
			t.Fatal(err)
		}
		got, err := src.Image(ctx, img.ID)
		if tc.want == http.StatusConflict && (err != nil || got.ID != img.ID) {
			t.Errorf("%s, as the agent: %+v %v", name, got, err)
		}
		if tc.want != http.StatusConflict && (err == nil || !strings.Contains(err.Error(), "certificate")) {
			t.Errorf("%s, as the agent: %v, want a certificate error", name, err)
		}
		// As the caller, through the agent's HTTP API (no disk is made).
		lb, err := provisioner.NewLocal(src, provisioner.LocalConfig{Dir: t.TempDir()}, nil)
		if err != nil {
			t.Fatal(err)
		}
		srv := httptest.NewServer(stopAtEnd(t, agent.New(lb, nil, agent.WithAuth(tokens))))
		_, _, err = (&agent.Client{Base: srv.URL, Token: "p1"}).CreateDisk(ctx, agent.CreateRequest{InstanceID: "tls1", ImageID: img.ID})
		srv.Close()
		wantStatus(t, name+", as p1", err, tc.want)
	}
}
