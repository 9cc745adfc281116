package ostest

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
)

// KeystoneUser is a user made by CreateUser, with what a client needs to
// log in as it.
type KeystoneUser struct {
	ID, Name, Password  string
	ProjectID, Project  string // the project its roles are on
	Roles               []string
	AuthURL, RegionName string
}

// AppCredential is an application credential of a user on its project.
type AppCredential struct {
	ID, Name, Secret string
	AuthURL          string
}

// CreateProject makes a project in the default domain and returns its id.
func (k *Keystone) CreateProject(ctx context.Context, name string) (string, error) {
	var out struct{ Project struct{ ID string } }
	err := k.admin(ctx, http.MethodPost, "/projects",
		map[string]any{"project": map[string]any{"name": name, "domain_id": KeystoneDomain}}, &out)
	if err != nil {
		return "", fmt.Errorf("project %s: %w", name, err)
	}
	return out.Project.ID, nil
}

// CreateUser makes a user in the default domain with roles (admin, member,
// reader, service; a role that does not exist yet is made) on project
// projectID, named projectName. The user has no default project, so a
// login without a scope gives an unscoped token.
func (k *Keystone) CreateUser(ctx context.Context, name, password, projectID, projectName string,
	roles ...string) (KeystoneUser, error) {
	var out struct{ User struct{ ID string } }
	err := k.admin(ctx, http.MethodPost, "/users", map[string]any{"user": map[string]any{
		"name": name, "password": password, "domain_id": KeystoneDomain}}, &out)
	if err != nil {
		return KeystoneUser{}, fmt.Errorf("user %s: %w", name, err)
	}
	for _, r := range roles {
		rid, err := k.roleID(ctx, r)
		if err != nil {
			return KeystoneUser{}, err
		}
		path := "/projects/" + projectID + "/users/" + out.User.ID + "/roles/" + rid
		if err := k.admin(ctx, http.MethodPut, path, nil, nil); err != nil {
			return KeystoneUser{}, fmt.Errorf("role %s for %s: %w", r, name, err)
		}
	}
	return KeystoneUser{ID: out.User.ID, Name: name, Password: password, ProjectID: projectID,
		Project: projectName, Roles: roles, AuthURL: k.URL, RegionName: k.Region}, nil
}

// AssignDomainRole gives user (by id) role on a domain, which Keystone
// requires before it issues that user a token scoped to the domain.
func (k *Keystone) AssignDomainRole(ctx context.Context, userID, domainID, role string) error {
	rid, err := k.roleID(ctx, role)
	if err != nil {
		return err
	}
	if err := k.admin(ctx, http.MethodPut, "/domains/"+domainID+"/users/"+userID+"/roles/"+rid, nil, nil); err != nil {
		return fmt.Errorf("role %s on domain %s: %w", role, domainID, err)
	}
	return nil
}

// roleID finds role by name, making it if it does not exist (bootstrap
// makes admin, member and reader; "service" is made here).
func (k *Keystone) roleID(ctx context.Context, role string) (string, error) {
	var list struct{ Roles []struct{ ID string } }
	if err := k.admin(ctx, http.MethodGet, "/roles?name="+role, nil, &list); err != nil {
		return "", fmt.Errorf("role %s: %w", role, err)
	}
	if len(list.Roles) > 0 {
		return list.Roles[0].ID, nil
	}
	var out struct{ Role struct{ ID string } }
	if err := k.admin(ctx, http.MethodPost, "/roles", map[string]any{"role": map[string]any{"name": role}}, &out); err != nil {
		return "", fmt.Errorf("role %s: %w", role, err)
	}
	return out.Role.ID, nil
}

// Token logs in as u on its project.
func (u KeystoneUser) Token(ctx context.Context, k *Keystone) (string, error) {
	return k.Token(ctx, TokenRequest{User: u.Name, Password: u.Password, ProjectID: u.ProjectID})
}

// Env is the OS_* environment an openrc file of u would set.
func (u KeystoneUser) Env() map[string]string {
	return map[string]string{"OS_AUTH_URL": u.AuthURL, "OS_USERNAME": u.Name, "OS_PASSWORD": u.Password,
		"OS_PROJECT_NAME": u.Project, "OS_USER_DOMAIN_ID": KeystoneDomain, "OS_PROJECT_DOMAIN_ID": KeystoneDomain,
		"OS_REGION_NAME": u.RegionName, "OS_IDENTITY_API_VERSION": "3", "OS_INTERFACE": "public"}
}

// CreateAppCredential makes an application credential for u on its
// project (made with u's own token, as Keystone requires).
func (k *Keystone) CreateAppCredential(ctx context.Context, u KeystoneUser, name string) (AppCredential, error) {
	tok, err := u.Token(ctx, k)
	if err != nil {
		return AppCredential{}, err
	}
	var out struct {
		AppCred struct{ ID, Secret string } `json:"application_credential"`
	}
	_, err = k.call(ctx, tok, http.MethodPost, "/users/"+u.ID+"/application_credentials",
		map[string]any{"application_credential": map[string]any{"name": name}}, &out)
	if err != nil {
		return AppCredential{}, fmt.Errorf("application credential %s: %w", name, err)
	}
	return AppCredential{ID: out.AppCred.ID, Name: name, Secret: out.AppCred.Secret, AuthURL: k.URL}, nil
}

// AddImageService puts an "image" service with a public endpoint at url
// (in the Keystone's region) into the catalog.
func (k *Keystone) AddImageService(ctx context.Context, url string) error {
	var svc struct{ Service struct{ ID string } }
	err := k.admin(ctx, http.MethodPost, "/services",
		map[string]any{"service": map[string]any{"type": "image", "name": "glance"}}, &svc)
	if err != nil {
		return fmt.Errorf("image service: %w", err)
	}
	err = k.admin(ctx, http.MethodPost, "/endpoints", map[string]any{"endpoint": map[string]any{
		"service_id": svc.Service.ID, "interface": "public", "url": url, "region_id": k.Region}}, nil)
	if err != nil {
		return fmt.Errorf("image endpoint %s: %w", url, err)
	}
	return nil
}

// SetTokenExpiration rewrites [token] expiration (seconds) and restarts
// the server so it takes effect. Tokens already issued keep their expiry.
func (k *Keystone) SetTokenExpiration(ctx context.Context, seconds int) error {
	if err := k.writeConfig(KeystoneOptions{TokenExpiration: seconds}); err != nil {
		return err
	}
	if err := k.Stop(); err != nil {
		return err
	}
	return k.Start(ctx)
}

// WriteCloudsYAML writes a clouds.yaml in dir with one cloud per entry
// (password users and application credentials) and returns its path.
func (k *Keystone) WriteCloudsYAML(dir string, users map[string]KeystoneUser,
	creds map[string]AppCredential) (string, error) {
	var b strings.Builder
	b.WriteString("clouds:\n")
	for name, u := range users {
		fmt.Fprintf(&b, "  %s:\n    region_name: %s\n    interface: public\n    auth:\n"+
			"      auth_url: %s\n      username: %q\n      password: %q\n      project_name: %q\n"+
			"      user_domain_id: %s\n      project_domain_id: %s\n",
			name, k.Region, k.URL, u.Name, u.Password, u.Project, KeystoneDomain, KeystoneDomain)
	}
	for name, c := range creds {
		fmt.Fprintf(&b, "  %s:\n    region_name: %s\n    interface: public\n    auth_type: v3applicationcredential\n"+
			"    auth:\n      auth_url: %s\n      application_credential_id: %q\n"+
			"      application_credential_secret: %q\n", name, k.Region, k.URL, c.ID, c.Secret)
	}
	p := filepath.Join(dir, "clouds.yaml")
	return p, os.WriteFile(p, []byte(b.String()), 0o600)
}

// admin calls the identity API as the bootstrap admin.
func (k *Keystone) admin(ctx context.Context, method, path string, in, out any) error {
	tok, err := k.AdminToken(ctx)
	if err != nil {
		return err
	}
	_, err = k.call(ctx, tok, method, path, in, out)
	return err
}
