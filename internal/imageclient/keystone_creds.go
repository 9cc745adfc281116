package imageclient

import (
	"fmt"
	"os"
	"strings"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack/config/clouds"

	"github.com/cowdisk/cowdisk/internal/errs"
)

// KeystoneOptions say where Keystone credentials come from. Empty fields
// fall back to the environment, as the openstack CLI does.
type KeystoneOptions struct {
	// Cloud names a clouds.yaml entry (--os-cloud; default OS_CLOUD). With
	// none, the OS_* variables of an openrc file are used.
	Cloud string
	// CloudsFile is the clouds.yaml to read (default OS_CLIENT_CONFIG_FILE,
	// else ./clouds.yaml, ~/.config/openstack/, /etc/openstack/).
	CloudsFile string
	Region     string // --os-region-name (default OS_REGION_NAME or the cloud's)
	Interface  string // --os-interface: public, internal or admin (default OS_INTERFACE, public)
	// Endpoint is the image service URL; empty: the catalog's.
	Endpoint string
}

// Credentials returns the login and the catalog choice.
func (ko KeystoneOptions) Credentials() (gophercloud.AuthOptions, gophercloud.EndpointOpts, error) {
	cloud := firstNonEmpty(ko.Cloud, os.Getenv("OS_CLOUD"))
	var ao gophercloud.AuthOptions
	var eo gophercloud.EndpointOpts
	if cloud != "" {
		opts := []clouds.ParseOption{clouds.WithCloudName(cloud)}
		if ko.CloudsFile != "" {
			opts = append(opts, clouds.WithLocations(ko.CloudsFile))
		}
		var err error
		if ao, eo, _, err = clouds.Parse(opts...); err != nil {
			return ao, eo, fmt.Errorf("cloud %q in clouds.yaml: %v: %w", cloud, err, errs.ErrInvalid)
		}
	} else {
		ao = authOptions()
		eo = gophercloud.EndpointOpts{Region: os.Getenv("OS_REGION_NAME")}
		if iface, err := availability(os.Getenv("OS_INTERFACE")); err == nil {
			eo.Availability = iface
		}
	}
	if ko.Region != "" {
		eo.Region = ko.Region
	}
	if ko.Interface != "" {
		iface, err := availability(ko.Interface)
		if err != nil {
			return ao, eo, err
		}
		eo.Availability = iface
	}
	if eo.Availability == "" {
		eo.Availability = gophercloud.AvailabilityPublic
	}
	if ao.IdentityEndpoint == "" {
		return ao, eo, fmt.Errorf("no keystone auth URL: set OS_AUTH_URL or OS_CLOUD (a clouds.yaml entry): %w",
			errs.ErrInvalid)
	}
	return ao, eo, nil
}

// availability reads an interface name as the openstack CLI takes it
// (public, internal, admin, with or without the old "URL" suffix).
func availability(s string) (gophercloud.Availability, error) {
	switch strings.TrimSuffix(strings.ToLower(s), "url") {
	case "", "public":
		return gophercloud.AvailabilityPublic, nil
	case "internal":
		return gophercloud.AvailabilityInternal, nil
	case "admin":
		return gophercloud.AvailabilityAdmin, nil
	}
	return "", fmt.Errorf("interface %q: want public, internal or admin: %w", s, errs.ErrInvalid)
}

func firstNonEmpty(v ...string) string {
	for _, s := range v {
		if s != "" {
			return s
		}
	}
	return ""
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
