package servecmd

import (
	"context"
	"os"

	"github.com/spf13/cobra"

	"github.com/cowdisk/cowdisk/internal/imageclient"
)

// nodeKeystone is how the node agent logs in to a Keystone-protected image
// service: with a clouds.yaml entry or the OS_* variables, the token
// renewed before it expires, the image endpoint from the catalog unless
// --image-service (or COWDISK_IMAGE_URL) names one.
type nodeKeystone struct {
	creds osFlags
	cmd   *cobra.Command
}

func newNodeKeystone(c *cobra.Command) *nodeKeystone {
	k := &nodeKeystone{cmd: c}
	f := c.Flags()
	k.creds.register(f, "the node's")
	f.StringVar(&k.creds.ko.Region, "os-region-name", "", "region of the image endpoint in the catalog (default: env OS_REGION_NAME)")
	f.StringVar(&k.creds.ko.Interface, "os-interface", "",
		"catalog interface of the image endpoint: public, internal or admin (default: env OS_INTERFACE, public)")
	return k
}

// wanted: no fixed --token, and Keystone credentials named somewhere. A
// nil k (options built without the command, as tests do) wants none.
func (k *nodeKeystone) wanted(token string) bool {
	return k != nil && token == "" && (k.creds.ko.Cloud != "" || imageclient.KeystoneConfigured())
}

// client is the image client of the node agent: Keystone-authenticated
// when wanted, else with the fixed token (or none).
func (k *nodeKeystone) client(ctx context.Context, imageURL, token string, opts imageclient.Options) (imageclient.Client, error) {
	opts.UserAgent = "cowdisk-node"
	if !k.wanted(token) {
		return imageclient.New(imageURL, token, opts)
	}
	ko := k.creds.ko
	if k.cmd.Flags().Changed("image-service") || os.Getenv("COWDISK_IMAGE_URL") != "" {
		ko.Endpoint = imageURL // else the catalog's, not the loopback default
	}
	return imageclient.NewKeystone(ctx, ko, opts)
}
