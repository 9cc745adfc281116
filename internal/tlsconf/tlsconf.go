// Package tlsconf builds the TLS settings every cowdisk server and client
// shares from the usual file flags: --tls-cert/--tls-key on a server,
// --cacert (OS_CACERT) on a client.
package tlsconf

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net/http"
	"os"

	"github.com/cowdisk/cowdisk/internal/errs"
)

// EnvCACert is OpenStack's variable for the CA bundle clients trust.
const EnvCACert = "OS_CACERT"

// maxCAFile bounds a CA bundle file (a system bundle is ~200 KiB).
const maxCAFile = 4 << 20

// Server loads a certificate and key for a server. Neither file means no
// TLS (nil, nil); one without the other is refused, since a server meant to
// be private would otherwise come up in plain text.
func Server(certFile, keyFile string) (*tls.Config, error) {
	switch {
	case certFile == "" && keyFile == "":
		return nil, nil
	case certFile == "" || keyFile == "":
		return nil, fmt.Errorf("--tls-cert and --tls-key go together (got cert %q, key %q): %w", certFile, keyFile, errs.ErrInvalid)
	}
	cert, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		return nil, fmt.Errorf("TLS certificate %s with key %s: %v: %w", certFile, keyFile, err, errs.ErrInvalid)
	}
	return &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}, nil
}

// ClientConfig trusts only the CA certificates in caFile (PEM), as
// OpenStack clients do with OS_CACERT; "" means the system roots (nil).
func ClientConfig(caFile string) (*tls.Config, error) {
	if caFile == "" {
		return nil, nil
	}
	st, err := os.Stat(caFile)
	if err != nil {
		return nil, fmt.Errorf("CA bundle: %w", err)
	}
	if st.Size() > maxCAFile {
		return nil, fmt.Errorf("CA bundle %s: %d bytes, more than %d: %w", caFile, st.Size(), maxCAFile, errs.ErrInvalid)
	}
	pem, err := os.ReadFile(caFile)
	if err != nil {
		return nil, fmt.Errorf("CA bundle: %w", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("CA bundle %s holds no PEM certificate: %w", caFile, errs.ErrInvalid)
	}
	return &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}, nil
}

// HTTPClient is an HTTP client trusting caFile ("" : the system roots,
// and then nil, meaning http.DefaultClient). Its transport is a clone of
// the default one, so proxies and timeouts behave as usual.
func HTTPClient(caFile string) (*http.Client, error) {
	cfg, err := ClientConfig(caFile)
	if err != nil || cfg == nil {
		return nil, err
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.TLSClientConfig = cfg
	return &http.Client{Transport: tr}, nil
}
