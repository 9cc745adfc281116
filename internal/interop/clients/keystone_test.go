//go:build interop

package clients

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/cowdisk/cowdisk/internal/ostest"
)

// The Keystone mode: the service runs with --auth keystone behind a real
// Keystone (its own credentials from OS_* variables), and every client logs
// in with a password and finds the image endpoint in Keystone's catalog.
func init() {
	modes = append(modes, mode{name: "keystone-file", store: "file", auth: "keystone"})
}

// startKeystone starts a Keystone for s, makes its projects, users (owner
// and other are members of two projects, admin is Keystone's bootstrap
// admin, the service's own user has the service role) and the image
// endpoint, and returns the OS_* environment of the service's own user.
func (s *service) startKeystone() ([]string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	dir, err := os.MkdirTemp(s.dir, "keystone-")
	if err != nil {
		return nil, err
	}
	if s.keystone, err = ostest.NewKeystone(ctx, dir, ostest.KeystoneOptions{}); err != nil {
		return nil, err
	}
	k := s.keystone
	users := map[string]struct {
		project string
		roles   []string
	}{
		"owner": {"interop-p1", []string{"member", "reader"}}, "other": {"interop-p2", []string{"member", "reader"}},
		"service": {"interop-service", []string{"service", "admin"}},
	}
	s.people = map[string]person{}
	var serviceEnv []string
	for who, u := range users {
		pid, err := k.CreateProject(ctx, u.project)
		if err != nil {
			return nil, err
		}
		ku, err := k.CreateUser(ctx, "interop-"+who, randomHex(), pid, u.project, u.roles...)
		if err != nil {
			return nil, err
		}
		p, err := keystonePerson(ctx, k, ku)
		if err != nil {
			return nil, err
		}
		if who == "service" {
			serviceEnv = p.osEnv
			continue
		}
		s.people[who] = p
	}
	admin := ostest.KeystoneUser{Name: ostest.KeystoneAdmin, Password: k.AdminPassword,
		Project: ostest.KeystoneAdmin, AuthURL: k.URL, RegionName: k.Region}
	if s.people["admin"], err = keystonePerson(ctx, k, admin); err != nil {
		return nil, err
	}
	if err := k.AddImageService(ctx, s.url); err != nil {
		return nil, err
	}
	return serviceEnv, nil
}

// keystonePerson logs u in (the token the tests use for plain HTTP) and
// gives the clients u's openrc environment: they find the image endpoint
// in Keystone's catalog.
func keystonePerson(ctx context.Context, k *ostest.Keystone, u ostest.KeystoneUser) (person, error) {
	tok, err := k.Token(ctx, ostest.TokenRequest{User: u.Name, Password: u.Password, ProjectName: u.Project})
	if err != nil {
		return person{}, fmt.Errorf("token of %s: %w", u.Name, err)
	}
	var env []string
	for key, v := range u.Env() {
		env = append(env, key+"="+v)
	}
	project := u.ProjectID
	return person{project: project, token: tok, glanceEnv: env, osEnv: env}, nil
}
