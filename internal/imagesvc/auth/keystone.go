package auth

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"sync"
	"time"

	"github.com/gophercloud/gophercloud/v2"

	"github.com/cowdisk/cowdisk/internal/errs"
)

// Defaults of KeystoneConfig, close to keystonemiddleware's.
const (
	DefaultKeystoneTimeout  = 5 * time.Second
	DefaultTokenCacheSize   = 10000
	DefaultTokenCacheTime   = 5 * time.Minute // keystonemiddleware's token_cache_time
	DefaultNegativeCacheFor = 10 * time.Second
	// MaxTokenLength bounds X-Auth-Token: fernet tokens are ~200 bytes, PKI
	// ones (long gone) a few KiB; anything longer is refused unsent.
	MaxTokenLength = 8 << 10
)

// KeystoneConfig tells a Keystone validator where Keystone is and how the
// service logs in to it (its own user, like keystonemiddleware's
// [keystone_authtoken]: a password user with the admin or service role, or
// an application credential of such a user).
type KeystoneConfig struct {
	Auth       gophercloud.AuthOptions // IdentityEndpoint is the .../v3 URL
	HTTPClient *http.Client            // default: a plain client
	// Timeout bounds each call to Keystone; past it the request is 503.
	Timeout time.Duration
	// CacheSize bounds the cache of validated tokens (valid and invalid).
	CacheSize int
	// CacheTime bounds how long a valid token is trusted without asking
	// again (never past its expiry): a revoked token works until then.
	CacheTime time.Duration
	// NegativeCacheTime: how long an unknown token is answered 401 unasked.
	NegativeCacheTime time.Duration
	Logger            *slog.Logger
}

// Keystone authenticates X-Auth-Token with Keystone (GET /v3/auth/tokens)
// and caches the answers. It is an Authenticator: the image service and
// the node agent can both use it.
type Keystone struct {
	cfg   KeystoneConfig
	idc   *identityClient
	svc   serviceToken
	cache *tokenCache
}

// NewKeystone checks cfg; it does not call Keystone (the service may start
// before Keystone does: requests are 503 until Keystone answers).
func NewKeystone(cfg KeystoneConfig) (*Keystone, error) {
	if cfg.Auth.IdentityEndpoint == "" {
		return nil, fmt.Errorf("keystone auth: no auth URL (OS_AUTH_URL, clouds.yaml or --os-auth-url): %w", errs.ErrInvalid)
	}
	if cfg.Auth.Password == "" && cfg.Auth.ApplicationCredentialSecret == "" {
		return nil, fmt.Errorf("keystone auth: the service needs a password or an application credential secret: %w",
			errs.ErrInvalid)
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = DefaultKeystoneTimeout
	}
	if cfg.CacheSize <= 0 {
		cfg.CacheSize = DefaultTokenCacheSize
	}
	if cfg.CacheTime <= 0 {
		cfg.CacheTime = DefaultTokenCacheTime
	}
	if cfg.NegativeCacheTime <= 0 {
		cfg.NegativeCacheTime = DefaultNegativeCacheFor
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	idc, err := newIdentityClient(cfg.Auth.IdentityEndpoint, cfg.HTTPClient, cfg.Timeout)
	if err != nil {
		return nil, err
	}
	k := &Keystone{cfg: cfg, idc: idc, cache: newTokenCache(cfg.CacheSize)}
	k.svc = serviceToken{idc: idc, auth: cfg.Auth, log: cfg.Logger}
	return k, nil
}

// Authenticate implements Authenticator. A missing, unknown, expired or
// unscoped token wraps errs.ErrPermission (401); a token scoped to a
// domain or the system wraps errs.ErrRefused (403); Keystone unreachable,
// slow or refusing the service's own login wraps errs.ErrUnavailable or
// errs.ErrTimeout (503).
func (k *Keystone) Authenticate(ctx context.Context, token string) (Principal, error) {
	switch {
	case token == "":
		return Principal{}, fmt.Errorf("no X-Auth-Token: %w", errs.ErrPermission)
	case len(token) > MaxTokenLength:
		return Principal{}, fmt.Errorf("X-Auth-Token of %d bytes (at most %d): %w", len(token), MaxTokenLength,
			errs.ErrPermission)
	}
	key := sha256.Sum256([]byte(token))
	now := time.Now()
	if e, ok := k.cache.get(key, now); ok {
		return e.principal, e.err
	}
	info, err := k.validate(ctx, token)
	if errors.Is(err, errNoSuchToken) {
		err = fmt.Errorf("token unknown to keystone, expired or revoked: %w", errs.ErrPermission)
		k.cache.put(key, cacheEntry{err: err, until: now.Add(k.cfg.NegativeCacheTime)})
		return Principal{}, err
	}
	if err != nil {
		return Principal{}, err
	}
	p, err := principalOf(info)
	until := now.Add(k.cfg.CacheTime)
	if info.ExpiresAt.Before(until) {
		until = info.ExpiresAt
	}
	// A scope refusal is as final as the token: cache it like a valid one.
	k.cache.put(key, cacheEntry{principal: p, err: err, until: until})
	return p, err
}

// validate asks Keystone about token with the service token, logging in
// again once if Keystone no longer takes the service token.
func (k *Keystone) validate(ctx context.Context, token string) (tokenInfo, error) {
	for attempt := 0; ; attempt++ {
		svc, err := k.svc.get(ctx)
		if err != nil {
			return tokenInfo{}, err
		}
		info, err := k.idc.validate(ctx, svc, token)
		if errors.Is(err, errServiceTokenRefused) && attempt == 0 {
			// Renewal before expiry should make this rare: keys rotated,
			// the token revoked, or clocks apart.
			k.cfg.Logger.Warn("keystone refused the service token; logging in again", "err", err)
			k.svc.drop(svc)
			continue
		}
		return info, err
	}
}

// principalOf maps a validated token to a Principal: only project-scoped
// tokens name a project; roles outside the four cowdisk knows are dropped.
func principalOf(info tokenInfo) (Principal, error) {
	switch {
	case info.ProjectID != "":
	case info.DomainID != "":
		return Principal{}, fmt.Errorf("token scoped to domain %s: the image service takes project-scoped tokens only: %w",
			info.DomainID, errs.ErrRefused)
	case info.System:
		return Principal{}, fmt.Errorf("system-scoped token: the image service takes project-scoped tokens only: %w",
			errs.ErrRefused)
	default:
		return Principal{}, fmt.Errorf("unscoped token: ask keystone for a token scoped to a project: %w",
			errs.ErrPermission)
	}
	p := Principal{Project: info.ProjectID}
	for _, r := range info.Roles {
		if slices.Contains(knownRoles, r) && !slices.Contains(p.Roles, r) {
			p.Roles = append(p.Roles, r)
		}
	}
	if len(p.Roles) == 0 {
		return Principal{}, fmt.Errorf("token of project %s has none of the roles %v: %w", info.ProjectID, knownRoles,
			errs.ErrRefused)
	}
	return p, nil
}

// serviceToken is the service's own token, renewed before it expires.
type serviceToken struct {
	idc  *identityClient
	auth gophercloud.AuthOptions
	log  *slog.Logger

	mu              sync.Mutex
	token           string
	issued, expires time.Time
	// failed, failedAt: the last login's error, answered again for
	// loginRetryAfter so that requests queued on mu while Keystone hangs
	// fail at once instead of each waiting out its own timeout.
	failed   error
	failedAt time.Time
}

const loginRetryAfter = 2 * time.Second

// get returns a token valid for a while yet: once two thirds of its
// lifetime have passed it logs in again, so a validation never carries a
// token that expires on the way (and a 20 s token is renewed at ~13 s).
func (s *serviceToken) get(ctx context.Context) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := time.Now()
	if s.token != "" && now.Before(s.issued.Add(s.expires.Sub(s.issued)*2/3)) {
		return s.token, nil
	}
	if s.failed != nil && now.Sub(s.failedAt) < loginRetryAfter {
		return "", s.failed
	}
	tok, issued, expires, err := s.idc.login(ctx, s.auth)
	if err != nil {
		err = fmt.Errorf("service login to keystone: %w", err)
		if ctx.Err() == nil { // not this caller's own cancellation
			s.failed, s.failedAt = err, time.Now()
		}
		return "", err
	}
	s.failed = nil
	s.log.Info("keystone service token renewed", "expires", expires)
	s.token, s.issued, s.expires = tok, issued, expires
	return tok, nil
}

// drop forgets tok (if still current) so the next get logs in.
func (s *serviceToken) drop(tok string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.token == tok {
		s.token = ""
	}
}
