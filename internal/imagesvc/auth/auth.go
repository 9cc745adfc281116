// Package auth tells who is calling the image service (project and roles)
// and what that caller may do with an image. Two modes: None (one project,
// admin, for a single-user loopback setup) and Tokens (a file mapping
// opaque tokens to project and roles).
package auth

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"os"
	"slices"

	"github.com/cowdisk/cowdisk/internal/errs"
)

// Roles, as Keystone's default roles name them.
const (
	Admin   = "admin"   // everything, every project
	Member  = "member"  // create and change the project's own images
	Reader  = "reader"  // read only
	Service = "service" // read any image including its locations (the provisioner)
)

var knownRoles = []string{Admin, Member, Reader, Service}

// Principal is an authenticated caller.
type Principal struct {
	Project string
	Roles   []string
}

// Has reports whether p holds role.
func (p Principal) Has(role string) bool { return slices.Contains(p.Roles, role) }

// Admin reports whether p may act on every image.
func (p Principal) Admin() bool { return p.Has(Admin) }

// ReadsAll reports whether p can read every image: admins, and services,
// which act for many projects (a node provisioner boots any tenant's image).
func (p Principal) ReadsAll() bool { return p.Has(Admin) || p.Has(Service) }

// SeesLocations reports whether p may see direct_url and locations, which
// name storage internals (pools, file paths) that tenants must not see.
func (p Principal) SeesLocations() bool { return p.ReadsAll() }

// CanSee reports whether p may read an image with this owner and
// visibility; member says whether p's project is a member of the image
// (whatever the member status: Glance lets a pending member look at the
// image before accepting it, but lists only accepted ones).
func (p Principal) CanSee(owner, visibility string, member bool) bool {
	return p.ReadsAll() || owner == p.Project || visibility == "public" || visibility == "community" ||
		(visibility == "shared" && member)
}

// CanModify reports whether p may change or delete an image of owner.
// The caller must have checked CanSee first: an invisible image is 404, a
// visible one p cannot modify is 403.
func (p Principal) CanModify(owner string) bool {
	return p.Admin() || (owner == p.Project && p.Has(Member))
}

// CanCreate reports whether p may create images in its project.
func (p Principal) CanCreate() bool { return p.Admin() || p.Has(Member) }

// Authenticator turns the X-Auth-Token of a request into a Principal.
type Authenticator interface {
	// Authenticate returns an error wrapping errs.ErrPermission for a missing
	// or unknown token.
	Authenticate(ctx context.Context, token string) (Principal, error)
}

// None accepts every request, token or not, as an admin of Project.
type None struct{ Project string }

// Authenticate implements Authenticator.
func (n None) Authenticate(context.Context, string) (Principal, error) {
	return Principal{Project: n.Project, Roles: []string{Admin, Member, Service}}, nil
}

// Tokens authenticates against a fixed table of tokens.
type Tokens struct {
	// keyed by sha256 of the token, so lookups do not compare secrets byte by
	// byte and a heap dump shows no tokens.
	byHash map[[32]byte]Principal
}

// TokenEntry is one line of the tokens file.
type TokenEntry struct {
	Token   string   `json:"token"`
	Project string   `json:"project"`
	Roles   []string `json:"roles"`
}

// LoadTokens reads a JSON file {"tokens": [{"token", "project", "roles"}]}.
func LoadTokens(path string) (*Tokens, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("tokens file: %w", err)
	}
	var f struct {
		Tokens []TokenEntry `json:"tokens"`
	}
	if err := json.Unmarshal(b, &f); err != nil {
		return nil, fmt.Errorf("tokens file %s: %v: %w", path, err, errs.ErrInvalid)
	}
	t, err := NewTokens(f.Tokens)
	if err != nil {
		return nil, fmt.Errorf("tokens file %s: %w", path, err)
	}
	return t, nil
}

// NewTokens builds a Tokens from entries, refusing empty tokens or projects,
// unknown roles and duplicates.
func NewTokens(entries []TokenEntry) (*Tokens, error) {
	t := &Tokens{byHash: make(map[[32]byte]Principal, len(entries))}
	for i, e := range entries {
		if e.Token == "" || e.Project == "" || len(e.Roles) == 0 {
			return nil, fmt.Errorf("entry %d: token, project and roles are required: %w", i, errs.ErrInvalid)
		}
		for _, r := range e.Roles {
			if !slices.Contains(knownRoles, r) {
				return nil, fmt.Errorf("entry %d: unknown role %q (want %v): %w", i, r, knownRoles, errs.ErrInvalid)
			}
		}
		h := sha256.Sum256([]byte(e.Token))
		if _, dup := t.byHash[h]; dup {
			return nil, fmt.Errorf("entry %d: duplicate token: %w", i, errs.ErrInvalid)
		}
		t.byHash[h] = Principal{Project: e.Project, Roles: slices.Clone(e.Roles)}
	}
	return t, nil
}

// Authenticate implements Authenticator.
func (t *Tokens) Authenticate(_ context.Context, token string) (Principal, error) {
	if token == "" {
		return Principal{}, fmt.Errorf("no X-Auth-Token: %w", errs.ErrPermission)
	}
	p, ok := t.byHash[sha256.Sum256([]byte(token))]
	if !ok {
		return Principal{}, fmt.Errorf("unknown token: %w", errs.ErrPermission)
	}
	return p, nil
}
