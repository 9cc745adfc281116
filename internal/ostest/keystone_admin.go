package ostest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"time"
)

// TokenRequest names who asks for a token and its scope: a project (by
// ProjectID, or ProjectName in the default domain), a domain (DomainID), or
// nothing (unscoped).
type TokenRequest struct {
	User, Password                   string // user name in the default domain
	ProjectID, ProjectName, DomainID string
}

// Token logs in with a password and returns the token (X-Subject-Token).
func (k *Keystone) Token(ctx context.Context, r TokenRequest) (string, error) {
	tok, _, err := k.login(ctx, r)
	return tok, err
}

// login returns the token and the id of the project it is scoped to.
func (k *Keystone) login(ctx context.Context, r TokenRequest) (token, projectID string, err error) {
	dom := map[string]string{"id": KeystoneDomain}
	auth := map[string]any{"identity": map[string]any{"methods": []string{"password"},
		"password": map[string]any{"user": map[string]any{"name": r.User, "password": r.Password, "domain": dom}}}}
	switch {
	case r.ProjectID != "":
		auth["scope"] = map[string]any{"project": map[string]string{"id": r.ProjectID}}
	case r.ProjectName != "":
		auth["scope"] = map[string]any{"project": map[string]any{"name": r.ProjectName, "domain": dom}}
	case r.DomainID != "":
		auth["scope"] = map[string]any{"domain": map[string]string{"id": r.DomainID}}
	}
	var out struct {
		Token struct{ Project struct{ ID string } } `json:"token"`
	}
	h, err := k.call(ctx, "", http.MethodPost, "/auth/tokens", map[string]any{"auth": auth}, &out)
	if err != nil {
		return "", "", fmt.Errorf("token for %s: %w", r.User, err)
	}
	return h.Get("X-Subject-Token"), out.Token.Project.ID, nil
}

// AdminToken is a token of the bootstrap admin on the admin project,
// reused while less than a third of its lifetime has passed.
func (k *Keystone) AdminToken(ctx context.Context) (string, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.adminTok != "" && time.Since(k.adminTokFetchedAt) < k.exp/3 {
		return k.adminTok, nil
	}
	tok, err := k.Token(ctx, TokenRequest{User: KeystoneAdmin, Password: k.AdminPassword, ProjectName: KeystoneAdmin})
	if err != nil {
		return "", err
	}
	k.adminTok, k.adminTokFetchedAt = tok, time.Now()
	return tok, nil
}

// RevokeToken revokes token (DELETE /v3/auth/tokens).
func (k *Keystone) RevokeToken(ctx context.Context, token string) error {
	admin, err := k.AdminToken(ctx)
	if err != nil {
		return err
	}
	req := func(r *http.Request) { r.Header.Set("X-Subject-Token", token) }
	_, err = k.callWith(ctx, admin, http.MethodDelete, "/auth/tokens", nil, nil, req)
	return err
}

// call sends a JSON request to the identity API with token (if any) and
// decodes a JSON answer into out (if not nil).
func (k *Keystone) call(ctx context.Context, token, method, path string, in, out any) (http.Header, error) {
	return k.callWith(ctx, token, method, path, in, out, nil)
}

func (k *Keystone) callWith(ctx context.Context, token, method, path string, in, out any,
	edit func(*http.Request)) (http.Header, error) {
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return nil, err
		}
		body = bytes.NewReader(b)
	}
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, k.URL+path, body)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("X-Auth-Token", token)
	}
	if edit != nil {
		edit(req)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if resp.StatusCode >= 300 {
		return nil, fmt.Errorf("%s %s: %s: %s", method, path, resp.Status, bytes.TrimSpace(b))
	}
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			return nil, fmt.Errorf("%s %s: %w", method, path, err)
		}
	}
	return resp.Header, nil
}
