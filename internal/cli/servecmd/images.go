package servecmd

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"

	"github.com/dustin/go-humanize"
	"github.com/spf13/cobra"

	"github.com/cowdisk/cowdisk/internal/imagesvc"
	"github.com/cowdisk/cowdisk/internal/imagesvc/api"
	"github.com/cowdisk/cowdisk/internal/tlsconf"
)

func init() { servers = append(servers, ImagesCommand) }

// imagesEnvPrefix: every flag can also come from COWDISK_IMAGES_<FLAG>,
// e.g. --rbd-pool from COWDISK_IMAGES_RBD_POOL (see withConfig).
const imagesEnvPrefix = "COWDISK_IMAGES_"

// rbdFeatureBits are librbd's feature bits by their rbd CLI names.
var rbdFeatureBits = map[string]uint64{"layering": 1, "striping": 2, "exclusive-lock": 4,
	"object-map": 8, "fast-diff": 16, "deep-flatten": 32}

type imagesOptions struct {
	cfg                         imagesvc.Config
	tlsCert, tlsKey             string
	dataDir, chunkSize, maxSize string
	writeSize                   string
	features                    []string
	ceph                        cephConn
	health                      healthTiming
}

// ImagesCommand is `cowdisk serve images`: the Glance v2 image service.
func ImagesCommand() *cobra.Command { return imagesCommand(imagesvc.Run) }

// imagesCommand takes the runner so tests can see the resulting config.
func imagesCommand(run func(context.Context, imagesvc.Config) error) *cobra.Command {
	o := &imagesOptions{}
	c := &cobra.Command{
		Use:   "images",
		Short: "Run the image service (Glance v2 images API; default 127.0.0.1:9292)",
		Long:  "Run the image service: the Glance v2 images API with an SQLite catalog and a file or RBD store.",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := o.config()
			if err != nil {
				return err
			}
			return run(cmd.Context(), cfg)
		},
	}
	withConfig(c, imagesEnvPrefix) // first: PreRunE hooks added later see the config applied
	f := c.Flags()
	addKeystoneAuth(c, &o.cfg) // images_keystone.go
	f.StringVar(&o.cfg.Listen, "listen", "127.0.0.1:9292", "address to listen on")
	f.StringVar(&o.dataDir, "data-dir", defaultDataDir(), "directory for the catalog and the file store")
	f.StringVar(&o.cfg.DB, "db", "", "catalog: a SQLite file (default DATA-DIR/catalog.db) or postgres://user@host:port/db")
	registerDBFlags(f, &o.cfg) // images_db.go
	f.StringVar(&o.cfg.Store, "store", "file", "where image data goes: file or rbd")
	f.StringVar(&o.cfg.FileDir, "file-dir", "", "file store directory (default DATA-DIR/images)")
	f.StringVar(&o.cfg.RBD.Pool, "rbd-pool", "images", "RBD store pool")
	f.StringVar(&o.chunkSize, "rbd-chunk-size", "8MiB", "RBD object size (power of two)")
	f.StringVar(&o.writeSize, "rbd-write-size", "4MiB", "unit of parallel writes (power of two, at most the chunk size)")
	f.StringSliceVar(&o.features, "rbd-features", nil, "features of new RBD images (default: the cluster's rbd_default_features, plus layering)")
	f.IntVar(&o.cfg.RBD.Workers, "rbd-workers", 0, "parallel writers per upload (0: default)")
	f.BoolVar(&o.cfg.RBD.ProtectSnapshot, "rbd-protect-snapshot", true,
		"protect each image's snapshot, as Glance does (needed by clone format 1)")
	o.ceph.register(f)
	o.health.register(f)
	f.StringVar(&o.cfg.Auth, "auth", "none", "none (one admin project, loopback only), tokens or keystone")
	f.StringVar(&o.cfg.TokensFile, "tokens-file", "", `tokens file: {"tokens":[{"token","project","roles"}]}`)
	f.StringVar(&o.cfg.Project, "project", "cowdisk", "project of every caller with --auth none")
	f.BoolVar(&o.cfg.AllowRemoteNoAuth, "allow-remote-noauth", false, "allow --auth none on a non-loopback address")
	f.BoolVar(&o.cfg.ShowLocations, "show-locations", true, "show direct_url/locations to admin and service callers")
	f.StringVar(&o.maxSize, "max-image-size", "1TiB", "largest image accepted")
	f.StringVar(&o.tlsCert, "tls-cert", "", "serve HTTPS with this PEM certificate (needs --tls-key)")
	f.StringVar(&o.tlsKey, "tls-key", "", "PEM key of --tls-cert")
	registerLimitFlags(f, &o.cfg.Limits)
	f.DurationVar(&o.cfg.ShutdownTimeout, "shutdown-timeout", 0, "how long running requests may finish at shutdown (0: 30s)")
	addImportFlags(c, o)
	return c
}

func (o *imagesOptions) config() (imagesvc.Config, error) {
	cfg := o.cfg
	if cfg.DB == "" {
		cfg.DB = filepath.Join(o.dataDir, "catalog.db")
	}
	if cfg.FileDir == "" {
		cfg.FileDir = filepath.Join(o.dataDir, "images")
	}
	if err := prepareDB(cfg); err != nil {
		return cfg, err
	}
	var err error
	// Only the rbd store needs a readable ceph.conf.
	if cfg.Ceph, err = o.ceph.config(); err != nil && cfg.Store == "rbd" {
		return cfg, err
	}
	chunk, err := humanize.ParseBytes(o.chunkSize)
	if err != nil {
		return cfg, fmt.Errorf("--rbd-chunk-size: %w", err)
	}
	cfg.RBD.ChunkSize = int(chunk)
	write, err := humanize.ParseBytes(o.writeSize)
	if err != nil {
		return cfg, fmt.Errorf("--rbd-write-size: %w", err)
	}
	cfg.RBD.WriteSize = int(min(write, chunk))
	for _, name := range o.features {
		bit, ok := rbdFeatureBits[strings.TrimSpace(name)]
		if !ok {
			return cfg, fmt.Errorf("--rbd-features: unknown feature %q", name)
		}
		cfg.RBD.Features |= bit
	}
	if len(o.features) > 0 && cfg.RBD.Features&rbdFeatureBits["layering"] == 0 {
		return cfg, fmt.Errorf("--rbd-features must include layering: clones need it")
	}
	limit, err := humanize.ParseBytes(o.maxSize)
	if err != nil {
		return cfg, fmt.Errorf("--max-image-size: %w", err)
	}
	cfg.MaxImageSize = int64(limit)
	if cfg.MaxImageSize == 0 {
		cfg.MaxImageSize = api.DefaultMaxImageSize
	}
	if cfg.TLS, err = tlsconf.Server(o.tlsCert, o.tlsKey); err != nil {
		return cfg, err
	}
	cfg.HealthInterval, cfg.HealthTimeout = o.health.interval, o.health.timeout
	cfg.ExitWhenReplaced = o.health.exitWhenReplaced
	cfg.Logger = slog.Default().With("component", "imagesvc")
	return cfg, nil
}

func defaultDataDir() string {
	if os.Geteuid() == 0 {
		return "/var/lib/cowdisk/imagesvc"
	}
	if d, err := os.UserHomeDir(); err == nil {
		return filepath.Join(d, ".local", "share", "cowdisk", "imagesvc")
	}
	return "cowdisk-imagesvc"
}
