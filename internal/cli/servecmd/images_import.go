package servecmd

import (
	"fmt"
	"path/filepath"

	"github.com/spf13/cobra"
)

// importFlags are the flags of Glance's image import and of the location
// policy; kept apart from images.go, which they hook into with one line.
type importFlags struct {
	glanceDirect     bool
	stagingDir       string
	locationsVisible string
}

// addImportFlags registers the import flags of `serve images` and fills
// o.cfg.Import once flags (and their environment variables) are read.
func addImportFlags(c *cobra.Command, o *imagesOptions) {
	var fl importFlags
	f := c.Flags()
	f.BoolVar(&fl.glanceDirect, "glance-direct", true, "offer the glance-direct import method (stage, then import)")
	f.StringVar(&fl.stagingDir, "staging-dir", "", "where staged image data waits for its import (default DATA-DIR/staging)")
	f.StringSliceVar(&o.cfg.Import.WebDownloadAllow, "web-download-allow", nil,
		"web-download allow-list: schemes (https:), hosts, addresses or prefixes; loopback and private "+
			"addresses only when an address or prefix names them (default empty: method off)")
	f.DurationVar(&o.cfg.Import.WebDownloadTimeout, "web-download-timeout", 0, "longest web-download (0: 1h)")
	f.DurationVar(&o.cfg.Import.WebDownloadStall, "web-download-stall-timeout", 0,
		"longest wait for a web-download's headers or next bytes (0: 1m)")
	f.IntVar(&o.cfg.Import.MaxImports, "max-imports", 0, "imports running at once; more are refused with 429 (0: 8)")
	f.StringVar(&fl.locationsVisible, "locations-visible-to", "admin-service",
		"who sees direct_url/locations: admin-service, or owner (also the image's owner project; "+
			"for Zed-era Nova, which reads locations with the user's token)")
	env := c.PreRunE
	c.PreRunE = func(cmd *cobra.Command, args []string) error {
		if err := env(cmd, args); err != nil {
			return err
		}
		return fl.apply(o)
	}
}

func (fl *importFlags) apply(o *imagesOptions) error {
	switch fl.locationsVisible {
	case "admin-service":
	case "owner":
		o.cfg.Import.LocationsVisibleToOwner = true
	default:
		return fmt.Errorf("--locations-visible-to: %q (want admin-service or owner)", fl.locationsVisible)
	}
	if !fl.glanceDirect {
		return nil
	}
	o.cfg.Import.StagingDir = fl.stagingDir
	if o.cfg.Import.StagingDir == "" {
		o.cfg.Import.StagingDir = filepath.Join(o.dataDir, "staging")
	}
	return nil
}
