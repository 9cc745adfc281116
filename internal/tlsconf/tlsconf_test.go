package tlsconf_test

import (
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cowdisk/cowdisk/internal/errs"
	"github.com/cowdisk/cowdisk/internal/tlsconf"
	"github.com/cowdisk/cowdisk/internal/tlsconf/tlstest"
)

// A client trusting the server's CA talks to it; one trusting another CA,
// or none given (system roots), is refused during the handshake.
func TestRoundTripAndWrongCA(t *testing.T) {
	ca, other := tlstest.NewCA(t, "test-ca"), tlstest.NewCA(t, "other-ca")
	cert, key := ca.Issue(t, "server")
	cfg, err := tlsconf.Server(cert, key)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, "hello") }))
	srv.TLS = cfg
	srv.StartTLS()
	defer srv.Close()

	hc, err := tlsconf.HTTPClient(ca.File)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := hc.Get(srv.URL)
	if err != nil {
		t.Fatalf("trusted CA: %v", err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if string(b) != "hello" {
		t.Fatalf("body %q", b)
	}
	for name, caFile := range map[string]string{"other CA": other.File, "system roots": ""} {
		hc, err := tlsconf.HTTPClient(caFile)
		if err != nil {
			t.Fatal(err)
		}
		if hc == nil {
			hc = &http.Client{}
		}
		if _, err := hc.Get(srv.URL); err == nil || !strings.Contains(err.Error(), "certificate") {
			t.Errorf("%s: %v, want a certificate error", name, err)
		}
	}
}

func TestRefusals(t *testing.T) {
	ca := tlstest.NewCA(t, "ca")
	cert, key := ca.Issue(t, "s")
	junk := filepath.Join(t.TempDir(), "junk.pem")
	if err := os.WriteFile(junk, []byte("not a certificate"), 0o600); err != nil {
		t.Fatal(err)
	}
	for name, err := range map[string]error{
		"cert without key": second(tlsconf.Server(cert, "")),
		"key without cert": second(tlsconf.Server("", key)),
		"key is no key":    second(tlsconf.Server(cert, junk)),
		"CA is no PEM":     second(tlsconf.ClientConfig(junk)),
	} {
		if !errors.Is(err, errs.ErrInvalid) {
			t.Errorf("%s: %v, want ErrInvalid", name, err)
		}
	}
	if _, err := tlsconf.ClientConfig(filepath.Join(t.TempDir(), "missing.pem")); err == nil || !strings.Contains(err.Error(), "missing.pem") {
		t.Errorf("missing CA file: %v", err)
	}
	if cfg, err := tlsconf.Server("", ""); cfg != nil || err != nil {
		t.Errorf("no files: %v %v, want no TLS", cfg, err)
	}
}

func second[T any](_ T, err error) error { return err }
