package servecmd

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/spf13/cobra"

	"github.com/cowdisk/cowdisk/internal/errs"
	"github.com/cowdisk/cowdisk/internal/imagesvc"
	"github.com/cowdisk/cowdisk/internal/imagesvc/auth"
	"github.com/cowdisk/cowdisk/internal/tlsconf"
	"github.com/cowdisk/cowdisk/internal/tlsconf/tlstest"
)

// Refusals happen before the agent listens or connects to anything: each
// case must fail at once (the context only bounds a test that would hang
// if a refusal were missing).
func TestNodeRefusesUnsafeStart(t *testing.T) {
	junk := filepath.Join(t.TempDir(), "junk.pem")
	if err := os.WriteFile(junk, []byte("junk"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		args []string
		want error
		says string
	}{
		{"no auth on all interfaces", []string{"--listen", "0.0.0.0:0", "--auth", "none"}, errs.ErrRefused, "--allow-remote-noauth"},
		{"no auth by default on all interfaces", []string{"--listen", ":0"}, errs.ErrRefused, "--allow-remote-noauth"},
		{"no auth on IPv6 any", []string{"--listen", "[::]:0"}, errs.ErrRefused, "--allow-remote-noauth"},
		{"tokens without a file", []string{"--listen", "127.0.0.1:0", "--auth", "tokens"}, errs.ErrInvalid, "--tokens-file"},
		{"tokens file missing", []string{"--listen", "127.0.0.1:0", "--auth", "tokens", "--tokens-file", junk + ".nope"}, nil, "tokens file"},
		{"unknown auth", []string{"--listen", "127.0.0.1:0", "--auth", "ldap"}, errs.ErrInvalid, "ldap"},
		{"cert without key", []string{"--listen", "127.0.0.1:0", "--tls-cert", junk}, errs.ErrInvalid, "--tls-key"},
		{"key without cert", []string{"--listen", "127.0.0.1:0", "--tls-key", junk}, errs.ErrInvalid, "--tls-cert"},
		{"bad CA for the image service", []string{"--listen", "127.0.0.1:0", "--cacert", junk}, errs.ErrInvalid, "--cacert"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			c := NodeCommand()
			c.SetArgs(append(tc.args, "--backend", "local", "--local-dir", t.TempDir()))
			c.SetOut(io.Discard)
			c.SetErr(io.Discard)
			err := c.ExecuteContext(ctx)
			if err == nil || !strings.Contains(err.Error(), tc.says) || (tc.want != nil && !errors.Is(err, tc.want)) {
				t.Fatalf("err %v, want %v saying %q", err, tc.want, tc.says)
			}
		})
	}
}

// --allow-remote-noauth is the explicit way to run without auth off
// loopback (not started here: tests never listen on a public address).
func TestNodeAuthModes(t *testing.T) {
	for addr, ok := range map[string]bool{"127.0.0.1:9393": true, "[::1]:1": true, "localhost:1": true,
		"0.0.0.0:1": false, "10.0.0.1:1": false, ":1": false, "nonsense": false} {
		if got := loopbackOnly(addr); got != ok {
			t.Errorf("loopbackOnly(%q) = %v", addr, got)
		}
	}
	s := nodeSecurity{auth: "none", project: "p", allowRemoteNoAuth: true}
	none := func() (auth.Authenticator, error) { return nil, errors.New("keystone must not be asked") }
	if a, err := s.authenticator(context.Background(), "0.0.0.0:1", none); err != nil || a == nil {
		t.Fatalf("forced none: %v", err)
	}
	// --auth keystone takes the validator built from the node's credentials.
	s.auth = "keystone"
	want := auth.None{Project: "from-keystone"}
	if a, err := s.authenticator(context.Background(), "0.0.0.0:1", func() (auth.Authenticator, error) { return want, nil }); err != nil || a != want {
		t.Fatalf("keystone: %v %v", a, err)
	}
}

// runServer runs a server command until the test ends, then stops it and
// checks it stopped cleanly.
func runServer(t *testing.T, c *cobra.Command, args ...string) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	c.SetArgs(args)
	go func() { done <- c.ExecuteContext(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("%s: %v", c.Name(), err)
		}
	})
}

// freeAddr is a free loopback port.
func freeAddr(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// getUntil GETs url with hc until the server answers (it starts in the
// background) or 10 s pass.
func getUntil(t *testing.T, hc *http.Client, url, token string) (int, string, error) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		req, _ := http.NewRequest(http.MethodGet, url, nil)
		if token != "" {
			req.Header.Set("X-Auth-Token", token)
		}
		resp, err := hc.Do(req)
		if err == nil {
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			return resp.StatusCode, string(b), nil
		}
		var opErr *net.OpError
		if !errors.As(err, &opErr) || opErr.Op != "dial" || time.Now().After(deadline) {
			return 0, "", err
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// `serve node` with TLS and tokens: a client trusting the CA gets in with
// a token, not without; a client trusting another CA is refused.
func TestNodeServesTLSWithTokens(t *testing.T) {
	ca, other := tlstest.NewCA(t, "node-ca"), tlstest.NewCA(t, "other-ca")
	cert, key := ca.Issue(t, "node")
	tokens := writeTokens(t)
	addr := freeAddr(t)
	runServer(t, NodeCommand(), "--listen", addr, "--backend", "local", "--local-dir", t.TempDir(), "--auth", "tokens",
		"--tokens-file", tokens, "--tls-cert", cert, "--tls-key", key, "--image-service", "http://127.0.0.1:1")
	trusting, err := tlsconf.HTTPClient(ca.File)
	if err != nil {
		t.Fatal(err)
	}
	url := "https://" + addr + "/v1/disks"
	if code, body, err := getUntil(t, trusting, url, ""); err != nil || code != http.StatusUnauthorized {
		t.Fatalf("no token: %d %s %v, want 401", code, body, err)
	}
	if code, body, err := getUntil(t, trusting, url, "p1-token"); err != nil || code != http.StatusOK || strings.TrimSpace(body) != "[]" {
		t.Fatalf("with token: %d %s %v, want 200 []", code, body, err)
	}
	wrong, err := tlsconf.HTTPClient(other.File)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := getUntil(t, wrong, url, "p1-token"); err == nil || !strings.Contains(err.Error(), "certificate") {
		t.Fatalf("client trusting another CA: %v, want a certificate error", err)
	}
}

func writeTokens(t *testing.T) string {
	b, _ := json.Marshal(map[string]any{"tokens": []map[string]any{{"token": "p1-token", "project": "p1", "roles": []string{"member"}}}})
	path := filepath.Join(t.TempDir(), "tokens.json")
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// `serve images` refuses half a TLS configuration and serves HTTPS with a
// whole one.
func TestImagesTLS(t *testing.T) {
	ca := tlstest.NewCA(t, "img-ca")
	cert, key := ca.Issue(t, "images")
	for _, args := range [][]string{{"--tls-cert", cert}, {"--tls-key", key}} {
		c := imagesCommand(func(context.Context, imagesvc.Config) error { t.Fatal("started"); return nil })
		c.SetArgs(append([]string{"--data-dir", t.TempDir()}, args...))
		c.SetOut(io.Discard)
		c.SetErr(io.Discard)
		if err := c.Execute(); !errors.Is(err, errs.ErrInvalid) {
			t.Fatalf("%v: %v, want ErrInvalid", args, err)
		}
	}
	addr := freeAddr(t)
	runServer(t, ImagesCommand(), "--listen", addr, "--data-dir", t.TempDir(), "--tls-cert", cert, "--tls-key", key)
	hc, err := tlsconf.HTTPClient(ca.File)
	if err != nil {
		t.Fatal(err)
	}
	if code, body, err := getUntil(t, hc, "https://"+addr+"/v2/images", ""); err != nil || code != http.StatusOK || !strings.Contains(body, `"images"`) {
		t.Fatalf("https list: %d %s %v", code, body, err)
	}
	if _, _, err := getUntil(t, http.DefaultClient, "https://"+addr+"/v2/images", ""); err == nil || !strings.Contains(err.Error(), "certificate") {
		t.Fatalf("client without the CA: %v, want a certificate error", err)
	}
	other := tlstest.NewCA(t, "other-ca")
	if out, err := openstackSDKList(t, "https://"+addr, ca.File); err != nil || strings.TrimSpace(out) != "[]" {
		t.Fatalf("openstacksdk trusting the CA: %v %s", err, out)
	}
	if out, err := openstackSDKList(t, "https://"+addr, other.File); err == nil || !strings.Contains(out, "CERTIFICATE_VERIFY_FAILED") && !strings.Contains(out, "DiscoveryFailure") {
		t.Fatalf("openstacksdk trusting another CA: %v %s, want refused", err, out)
	}
}

// openstacksdk is the real OpenStack client: it lists images at endpoint
// trusting cacert (as OS_CACERT / --os-cacert would).
const sdkList = `
import sys, openstack
url, ca = sys.argv[1], sys.argv[2]
conn = openstack.connect(auth_type="admin_token", auth={"endpoint": url, "token": "any"},
                         image_endpoint_override=url, cacert=ca)
print([i.name for i in conn.image.images()])
`

func openstackSDKList(t *testing.T, endpoint, cacert string) (string, error) {
	t.Helper()
	if _, err := os.Stat("/usr/bin/python3"); err != nil {
		t.Fatalf("python3-openstacksdk is needed: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, "/usr/bin/python3", "-c", sdkList, endpoint, cacert).CombinedOutput()
	return string(out), err
}
