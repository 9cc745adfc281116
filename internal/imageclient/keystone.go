package imageclient

import (
	"context"
	"fmt"
	"os"

	"github.com/gophercloud/gophercloud/v2/openstack"

	"github.com/cowdisk/cowdisk/internal/errs"
)

// KeystoneConfigured reports whether the environment names a Keystone to
// log in to: OS_AUTH_URL (an openrc file) or OS_CLOUD (a clouds.yaml entry).
func KeystoneConfigured() bool { return os.Getenv("OS_AUTH_URL") != "" || os.Getenv("OS_CLOUD") != "" }

// NewFromKeystone is NewKeystone with the credentials, region and
// interface from the environment (OS_CLOUD or OS_*) and the image service
// at endpoint, or, when endpoint is empty, from the catalog.
func NewFromKeystone(ctx context.Context, endpoint string, o Options) (Client, error) {
	return NewKeystone(ctx, KeystoneOptions{Endpoint: endpoint}, o)
}

// NewKeystone logs in to Keystone (user and password, or an application
// credential) and talks to the image service at ko.Endpoint or at the
// image endpoint of the catalog. The token is renewed before it expires,
// and again if the service answers 401.
func NewKeystone(ctx context.Context, ko KeystoneOptions, o Options) (Client, error) {
	ao, eo, err := ko.Credentials()
	if err != nil {
		return nil, err
	}
	pc, err := openstack.NewClient(ao.IdentityEndpoint)
	if err != nil {
		return nil, fmt.Errorf("keystone %s: %v: %w", ao.IdentityEndpoint, err, errs.ErrInvalid)
	}
	o.setUp(pc)
	renew := &renewer{next: pc.HTTPClient.Transport, pc: pc} // the bounded transport, never nil
	pc.HTTPClient.Transport = renew
	ao.AllowReauth = true
	if err := openstack.Authenticate(ctx, pc, ao); err != nil {
		return nil, translate(err, "keystone login at "+ao.IdentityEndpoint)
	}
	if ko.Endpoint != "" {
		base, err := normalize(ko.Endpoint)
		if err != nil {
			return nil, err
		}
		return o.glanceAt(pc, base), nil
	}
	sc, err := openstack.NewImageV2(pc, eo)
	if err != nil {
		return nil, fmt.Errorf("image endpoint (region %q, interface %s) in the keystone catalog: %v: %w",
			eo.Region, eo.Availability, err, errs.ErrNotFound)
	}
	return o.glanceWith(sc), nil
}

// EndpointOf is the image service URL c talks to (from the catalog or
// given), or "" for a client not made by this package. A node agent uses
// it to send its callers' tokens to the same service.
func EndpointOf(c Client) string {
	if g, ok := c.(*glance); ok {
		return g.sc.Endpoint
	}
	return ""
}
