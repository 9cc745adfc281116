package servecmd

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/cowdisk/cowdisk/internal/imageclient"
	"github.com/cowdisk/cowdisk/internal/imagesvc/auth"
)

// nodeKeystone is how the node agent logs in to a Keystone-protected image
// service: with a clouds.yaml entry or the OS_* variables, the token
// renewed before it expires, the image endpoint from the catalog unless
// --image-service (or COWDISK_NODE_IMAGE_SERVICE, or the config file) names one. The same credentials
// let the agent validate its own callers' Keystone tokens (validator).
type nodeKeystone struct {
	creds osFlags
	fs    *pflag.FlagSet // to see whether --image-service was given
}

func newNodeKeystone(c *cobra.Command) *nodeKeystone {
	k := &nodeKeystone{}
	k.register(c.Flags())
	return k
}

func (k *nodeKeystone) register(f *pflag.FlagSet) {
	k.fs = f
	k.creds.register(f, "the node's")
	f.StringVar(&k.creds.ko.Region, "os-region-name", "", "region of the image endpoint in the catalog (default: env OS_REGION_NAME)")
	f.StringVar(&k.creds.ko.Interface, "os-interface", "",
		"catalog interface of the image endpoint: public, internal or admin (default: env OS_INTERFACE, public)")
}

// wanted: no fixed --token, and Keystone credentials named somewhere. A
// nil k (options built without the command, as tests do) wants none.
func (k *nodeKeystone) wanted(token string) bool {
	return k != nil && token == "" && (k.creds.ko.Cloud != "" || imageclient.KeystoneConfigured())
}

// client is the node agent's own image client: Keystone-authenticated when
// wanted (token renewed before expiry, endpoint from the catalog unless
// named), else with the fixed token (or none).
func (k *nodeKeystone) client(ctx context.Context, imageURL, token string, opts imageclient.Options) (imageclient.Client, error) {
	opts.UserAgent = "cowdisk-node"
	if !k.wanted(token) {
		return imageclient.New(imageURL, token, opts)
	}
	ko := k.creds.ko
	if k.fs != nil && k.fs.Changed("image-service") { // set by flag, environment or config file
		ko.Endpoint = imageURL // else the catalog's, not the loopback default
	}
	return imageclient.NewKeystone(ctx, ko, opts)
}

// validator checks the agent's callers' Keystone tokens with the node's
// own credentials (which need the admin or service role).
func (k *nodeKeystone) validator() (auth.Authenticator, error) {
	ao, _, err := k.creds.ko.Credentials()
	if err != nil {
		return nil, fmt.Errorf("--auth keystone: the node's credentials: %w", err)
	}
	return auth.NewKeystone(auth.KeystoneConfig{Auth: ao,
		Logger: slog.Default().With("component", "agent", "auth", "keystone")})
}
