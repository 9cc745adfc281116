package servecmd

import (
	"context"
	"crypto/tls"
	"fmt"
	"net"
	"net/netip"

	"github.com/spf13/pflag"

	"github.com/cowdisk/cowdisk/internal/errs"
	"github.com/cowdisk/cowdisk/internal/imagesvc/auth"
	"github.com/cowdisk/cowdisk/internal/tlsconf"
)

// nodeSecurity is who may call the node agent and how it talks TLS.
type nodeSecurity struct {
	auth, tokensFile, project string
	allowRemoteNoAuth         bool
	tlsCert, tlsKey           string
	caCert                    string // the image service's CA, for the agent's image client
}

func (s *nodeSecurity) register(f *pflag.FlagSet) {
	f.StringVar(&s.auth, "auth", "none", "who may call: none (every caller is admin; loopback only), tokens or keystone")
	f.StringVar(&s.tokensFile, "tokens-file", "", `tokens file for --auth tokens: {"tokens":[{"token","project","roles"}]}`)
	f.StringVar(&s.project, "project", "cowdisk", "project of every caller with --auth none")
	f.BoolVar(&s.allowRemoteNoAuth, "allow-remote-noauth", false, "allow --auth none on a non-loopback address")
	f.StringVar(&s.tlsCert, "tls-cert", "", "serve HTTPS with this PEM certificate (needs --tls-key)")
	f.StringVar(&s.tlsKey, "tls-key", "", "PEM key of --tls-cert")
	f.StringVar(&s.caCert, "cacert", envOr(tlsconf.EnvCACert, ""), "PEM file of the CAs the image service's certificate must chain to (env OS_CACERT)")
}

// authenticator checks the mode against the listen address and builds it;
// every refusal comes before the agent listens.
//
// keystone builds the Keystone validator from the node's own credentials
// (node_keystone.go), so --auth keystone needs no second set of them.
func (s *nodeSecurity) authenticator(_ context.Context, listen string, keystone func() (auth.Authenticator, error)) (auth.Authenticator, error) {
	switch s.auth {
	case "none", "":
		if !s.allowRemoteNoAuth && !loopbackOnly(listen) {
			return nil, fmt.Errorf("--auth none on %s would let anyone who reaches it delete every disk; "+
				"listen on a loopback address, use --auth tokens or keystone, or force it with --allow-remote-noauth: %w", listen, errs.ErrRefused)
		}
		return auth.None{Project: s.project}, nil
	case "tokens":
		if s.tokensFile == "" {
			return nil, fmt.Errorf("--auth tokens needs --tokens-file: %w", errs.ErrInvalid)
		}
		return auth.LoadTokens(s.tokensFile)
	case "keystone":
		return keystone()
	}
	return nil, fmt.Errorf("--auth %q: want none, tokens or keystone: %w", s.auth, errs.ErrInvalid)
}

func (s *nodeSecurity) serverTLS() (*tls.Config, error) { return tlsconf.Server(s.tlsCert, s.tlsKey) }

// loopbackOnly reports whether addr (host:port) can only be reached from
// this host: a loopback IP or "localhost". An empty host means every
// interface.
func loopbackOnly(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	if ip, err := netip.ParseAddr(host); err == nil {
		return ip.IsLoopback()
	}
	return host == "localhost"
}
