package auth

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/gophercloud/gophercloud/v2"

	"github.com/cowdisk/cowdisk/internal/errs"
)

var (
	// errNoSuchToken: Keystone does not know the subject token (bad,
	// expired or revoked): 404 on GET /v3/auth/tokens.
	errNoSuchToken = errors.New("no such token")
	// errServiceTokenRefused: Keystone no longer takes the service's own
	// token (401), e.g. after its keys were rotated.
	errServiceTokenRefused = errors.New("service token refused")
)

// maxIdentityAnswer bounds what is read of a Keystone answer; with
// ?nocatalog a token is a few KiB.
const maxIdentityAnswer = 1 << 20

// identityClient is the two calls of the identity v3 API the validator
// needs. It is small on purpose: each call is bounded in time and its
// failures are sorted into "the token is bad" and "Keystone is not
// usable", which gophercloud's client does not tell apart.
type identityClient struct {
	base    string // .../v3/
	hc      *http.Client
	timeout time.Duration
}

func newIdentityClient(authURL string, hc *http.Client, timeout time.Duration) (*identityClient, error) {
	u, err := url.Parse(authURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("keystone auth URL %q: want http(s)://host[:port]/v3: %w", authURL, errs.ErrInvalid)
	}
	base := strings.TrimSuffix(authURL, "/")
	if !strings.HasSuffix(base, "/v3") {
		base += "/v3"
	}
	if hc == nil {
		hc = &http.Client{}
	}
	return &identityClient{base: base + "/", hc: hc, timeout: timeout}, nil
}

// tokenInfo is what the image service needs of a token.
type tokenInfo struct {
	ProjectID, DomainID string
	System              bool
	Roles               []string
	IssuedAt, ExpiresAt time.Time
}

type tokenBody struct {
	Token struct {
		IssuedAt  time.Time `json:"issued_at"`
		ExpiresAt time.Time `json:"expires_at"`
		Project   *struct {
			ID string `json:"id"`
		} `json:"project"`
		Domain *struct {
			ID string `json:"id"`
		} `json:"domain"`
		System map[string]any `json:"system"`
		Roles  []struct {
			Name string `json:"name"`
		} `json:"roles"`
	} `json:"token"`
}

func (b tokenBody) info() tokenInfo {
	t := b.Token
	ti := tokenInfo{IssuedAt: t.IssuedAt, ExpiresAt: t.ExpiresAt, System: len(t.System) > 0}
	if t.Project != nil {
		ti.ProjectID = t.Project.ID
	}
	if t.Domain != nil {
		ti.DomainID = t.Domain.ID
	}
	for _, r := range t.Roles {
		ti.Roles = append(ti.Roles, r.Name)
	}
	return ti
}

// login gets a token for ao (POST /v3/auth/tokens).
func (c *identityClient) login(ctx context.Context, ao gophercloud.AuthOptions) (tok string, issued, expires time.Time, err error) {
	scope, err := ao.ToTokenV3ScopeMap()
	if err != nil {
		return "", issued, expires, fmt.Errorf("credentials: %v: %w", err, errs.ErrInvalid)
	}
	body, err := ao.ToTokenV3CreateMap(scope)
	if err != nil {
		return "", issued, expires, fmt.Errorf("credentials: %v: %w", err, errs.ErrInvalid)
	}
	b, err := json.Marshal(body)
	if err != nil {
		return "", issued, expires, err
	}
	var tb tokenBody
	h, code, err := c.do(ctx, http.MethodPost, "auth/tokens?nocatalog", bytes.NewReader(b), nil, &tb)
	switch {
	case err != nil:
		return "", issued, expires, err
	case code == http.StatusUnauthorized || code == http.StatusForbidden:
		// The service's credentials are wrong: its operator must act, the
		// caller cannot. Hence unavailable (503), not a 401 to the caller.
		return "", issued, expires, fmt.Errorf("keystone refused the service's credentials (%d): %w", code,
			errs.ErrUnavailable)
	case code != http.StatusCreated:
		return "", issued, expires, fmt.Errorf("keystone answered %d to the service login: %w", code, errs.ErrUnavailable)
	}
	return h.Get("X-Subject-Token"), tb.Token.IssuedAt, tb.Token.ExpiresAt, nil
}

// validate asks Keystone about subject with the service token svc.
func (c *identityClient) validate(ctx context.Context, svc, subject string) (tokenInfo, error) {
	var tb tokenBody
	_, code, err := c.do(ctx, http.MethodGet, "auth/tokens?nocatalog", nil,
		map[string]string{"X-Auth-Token": svc, "X-Subject-Token": subject}, &tb)
	switch {
	case err != nil:
		return tokenInfo{}, err
	case code == http.StatusOK:
		return tb.info(), nil
	case code == http.StatusNotFound:
		return tokenInfo{}, errNoSuchToken
	case code == http.StatusUnauthorized:
		return tokenInfo{}, fmt.Errorf("keystone refused the service token: %w: %w", errServiceTokenRefused,
			errs.ErrUnavailable)
	case code == http.StatusForbidden:
		return tokenInfo{}, fmt.Errorf("the service user may not validate tokens (give it the admin or service role): %w",
			errs.ErrUnavailable)
	}
	return tokenInfo{}, fmt.Errorf("keystone answered %d to a token validation: %w", code, errs.ErrUnavailable)
}

// do sends one request bounded by c.timeout and decodes a 2xx JSON answer
// into out. Transport failures wrap errs.ErrTimeout or errs.ErrUnavailable.
func (c *identityClient) do(ctx context.Context, method, path string, body io.Reader, hdr map[string]string,
	out any) (http.Header, int, error) {
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, body)
	if err != nil {
		return nil, 0, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		if errors.Is(ctx.Err(), context.DeadlineExceeded) {
			return nil, 0, fmt.Errorf("keystone at %s did not answer within %v: %w", c.base, c.timeout, errs.ErrTimeout)
		}
		return nil, 0, fmt.Errorf("keystone at %s: %v: %w", c.base, err, errs.ErrUnavailable)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxIdentityAnswer))
	if err != nil {
		return nil, 0, fmt.Errorf("keystone at %s: reading the answer: %v: %w", c.base, err, errs.ErrUnavailable)
	}
	if resp.StatusCode/100 == 2 && out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			return nil, 0, fmt.Errorf("keystone at %s: answer is not a token: %v: %w", c.base, err, errs.ErrUnavailable)
		}
	}
	return resp.Header, resp.StatusCode, nil
}
