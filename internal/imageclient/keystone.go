package imageclient

import (
	"context"
	"fmt"
	"os"
	"strings"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack"

	"github.com/cowdisk/cowdisk/internal/errs"
)

// KeystoneConfigured reports whether the OS_* environment names a Keystone
// to log in to (OS_AUTH_URL), as an OpenStack openrc file sets it.
func KeystoneConfigured() bool { return os.Getenv("OS_AUTH_URL") != "" }

// NewFromKeystone logs in to Keystone with the OS_* environment (user and
// password, or an application credential) and talks to the image service
// at endpoint, or, when endpoint is empty, at the image endpoint of the
// service catalog (OS_REGION_NAME, OS_INTERFACE). Expired tokens are
// renewed by gophercloud.
func NewFromKeystone(ctx context.Context, endpoint string, o Options) (Client, error) {
	ao := authOptions()
	if ao.IdentityEndpoint == "" {
		return nil, fmt.Errorf("OS_AUTH_URL is not set: %w", errs.ErrInvalid)
	}
	pc, err := openstack.NewClient(ao.IdentityEndpoint)
	if err != nil {
		return nil, fmt.Errorf("keystone %s: %v: %w", ao.IdentityEndpoint, err, errs.ErrInvalid)
	}
	if o.HTTPClient != nil {
		pc.HTTPClient = *o.HTTPClient
	}
	if o.UserAgent != "" {
		pc.UserAgent.Prepend(o.UserAgent)
	}
	if err := openstack.Authenticate(ctx, pc, ao); err != nil {
		return nil, translate(err, "keystone login at "+ao.IdentityEndpoint)
	}
	if endpoint != "" {
		base, err := normalize(endpoint)
		if err != nil {
			return nil, err
		}
		return &glance{sc: &gophercloud.ServiceClient{ProviderClient: pc, Endpoint: base,
			ResourceBase: base + "v2/", Type: "image"}}, nil
	}
	eo := gophercloud.EndpointOpts{Region: os.Getenv("OS_REGION_NAME")}
	switch strings.TrimSuffix(os.Getenv("OS_INTERFACE"), "URL") {
	case "internal":
		eo.Availability = gophercloud.AvailabilityInternal
	case "admin":
		eo.Availability = gophercloud.AvailabilityAdmin
	}
	sc, err := openstack.NewImageV2(pc, eo)
	if err != nil {
		return nil, fmt.Errorf("image endpoint in the keystone catalog: %v: %w", err, errs.ErrNotFound)
	}
	return &glance{sc: sc}, nil
}

// authOptions reads the OS_* variables an openrc file sets. gophercloud's
// AuthOptionsFromEnv knows only OS_DOMAIN_*, not the OS_USER_DOMAIN_* and
// OS_PROJECT_DOMAIN_* that openrc files and the openstack CLI use.
func authOptions() gophercloud.AuthOptions {
	env := func(keys ...string) string {
		for _, k := range keys {
			if v := os.Getenv(k); v != "" {
				return v
			}
		}
		return ""
	}
	ao := gophercloud.AuthOptions{
		IdentityEndpoint:            env("OS_AUTH_URL"),
		Username:                    env("OS_USERNAME"),
		UserID:                      env("OS_USER_ID", "OS_USERID"),
		Password:                    env("OS_PASSWORD"),
		DomainID:                    env("OS_USER_DOMAIN_ID", "OS_DOMAIN_ID"),
		DomainName:                  env("OS_USER_DOMAIN_NAME", "OS_DOMAIN_NAME"),
		ApplicationCredentialID:     env("OS_APPLICATION_CREDENTIAL_ID"),
		ApplicationCredentialName:   env("OS_APPLICATION_CREDENTIAL_NAME"),
		ApplicationCredentialSecret: env("OS_APPLICATION_CREDENTIAL_SECRET"),
		AllowReauth:                 true,
	}
	// An application credential carries its own project; anything else
	// needs a project scope, named by id or by name within a domain.
	pid, pname := env("OS_PROJECT_ID", "OS_TENANT_ID"), env("OS_PROJECT_NAME", "OS_TENANT_NAME")
	switch {
	case ao.ApplicationCredentialID != "" || ao.ApplicationCredentialName != "":
	case pid != "":
		ao.Scope = &gophercloud.AuthScope{ProjectID: pid}
	case pname != "":
		ao.Scope = &gophercloud.AuthScope{ProjectName: pname, DomainID: env("OS_PROJECT_DOMAIN_ID"),
			DomainName: env("OS_PROJECT_DOMAIN_NAME", "OS_USER_DOMAIN_NAME", "OS_DOMAIN_NAME")}
		if ao.Scope.DomainID != "" {
			ao.Scope.DomainName = ""
		}
	}
	return ao
}
