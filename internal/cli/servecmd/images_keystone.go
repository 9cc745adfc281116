package servecmd

import (
	"fmt"
	"log/slog"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/cowdisk/cowdisk/internal/imageclient"
	"github.com/cowdisk/cowdisk/internal/imagesvc"
	"github.com/cowdisk/cowdisk/internal/imagesvc/auth"
)

// osFlags are the openstack CLI's ways to name Keystone credentials;
// without them the OS_* variables of an openrc file are read.
type osFlags struct{ ko imageclient.KeystoneOptions }

func (o *osFlags) register(f *pflag.FlagSet, whose string) {
	f.StringVar(&o.ko.Cloud, "os-cloud", "", whose+" clouds.yaml entry (default: env OS_CLOUD, else the OS_* variables)")
	f.StringVar(&o.ko.CloudsFile, "os-clouds-file", "",
		"clouds.yaml to read (default: env OS_CLIENT_CONFIG_FILE, ./, ~/.config/openstack/, /etc/openstack/)")
}

// imagesKeystone holds `serve images --auth keystone` settings.
type imagesKeystone struct {
	creds              osFlags
	timeout, cacheTime time.Duration
	negativeTime       time.Duration
	cacheSize          int
	prevPreRun         func(*cobra.Command, []string) error
	cfg                *imagesvc.Config
}

// addKeystoneAuth adds the flags of --auth keystone to the images command
// and fills cfg.Keystone from them (after the environment has filled
// unset flags) when --auth is keystone.
func addKeystoneAuth(c *cobra.Command, cfg *imagesvc.Config) {
	k := &imagesKeystone{prevPreRun: c.PreRunE, cfg: cfg}
	f := c.Flags()
	k.creds.register(f, "the service's own")
	f.DurationVar(&k.timeout, "keystone-timeout", auth.DefaultKeystoneTimeout,
		"bound of each call to keystone; past it the request is 503")
	f.IntVar(&k.cacheSize, "token-cache-size", auth.DefaultTokenCacheSize, "validated tokens kept")
	f.DurationVar(&k.cacheTime, "token-cache-time", auth.DefaultTokenCacheTime,
		"how long a valid token is trusted without asking keystone (never past its expiry)")
	f.DurationVar(&k.negativeTime, "token-negative-cache-time", auth.DefaultNegativeCacheFor,
		"how long an unknown token is refused without asking keystone")
	c.PreRunE = k.preRun
}

func (k *imagesKeystone) preRun(cmd *cobra.Command, args []string) error {
	if k.prevPreRun != nil {
		if err := k.prevPreRun(cmd, args); err != nil {
			return err
		}
	}
	if k.cfg.Auth != "keystone" {
		return nil
	}
	ao, _, err := k.creds.ko.Credentials()
	if err != nil {
		return fmt.Errorf("--auth keystone: the service's credentials: %w", err)
	}
	k.cfg.Keystone = &auth.KeystoneConfig{Auth: ao, Timeout: k.timeout, CacheSize: k.cacheSize,
		CacheTime: k.cacheTime, NegativeCacheTime: k.negativeTime,
		Logger: slog.Default().With("component", "imagesvc", "auth", "keystone")}
	return nil
}
