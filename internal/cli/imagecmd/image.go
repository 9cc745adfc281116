// Package imagecmd is `cowdisk image ...`: create, upload, list, show,
// download, delete and update images on any Glance v2 endpoint (cowdisk's
// own image service or OpenStack's), through internal/imageclient.
package imagecmd

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/cowdisk/cowdisk/internal/cli/clierr"
	"github.com/cowdisk/cowdisk/internal/errs"
	"github.com/cowdisk/cowdisk/internal/imageclient"
	"github.com/cowdisk/cowdisk/internal/tlsconf"
	"github.com/cowdisk/cowdisk/internal/units"
)

// options are the flags every image command shares.
type options struct {
	endpoint, token string
	cacert          string // CA bundle for an https service (OS_CACERT)
	json            bool
	progress        string // auto, always, never
}

// Command is `cowdisk image`.
func Command() *cobra.Command {
	o := &options{}
	c := &cobra.Command{
		Use:   "image",
		Short: "Manage images on a Glance v2 image service",
		Example: `  cowdisk image create debian-13 --file debian-13.qcow2 --disk-format qcow2
  cowdisk image list
  OS_IMAGE_URL=http://127.0.0.1:9292 cowdisk image show debian-13`,
		Long: "Manage images on a Glance v2 image service (cowdisk serve images, or OpenStack Glance).\n" +
			"The endpoint comes from --endpoint, COWDISK_IMAGE_URL or OS_IMAGE_URL; the token from\n" +
			"--token, OS_TOKEN or COWDISK_IMAGE_TOKEN. Without a token but with OS_AUTH_URL (an openrc\n" +
			"file), it logs in to Keystone and takes the image endpoint from the catalog unless one is\n" +
			"given. cowdisk's own service with --auth none needs no token; its default endpoint is\n" +
			defaultEndpoint + ".",
	}
	f := c.PersistentFlags()
	f.StringVar(&o.endpoint, "endpoint", firstEnv("", "COWDISK_IMAGE_URL", "OS_IMAGE_URL"),
		"image service URL (default: keystone catalog with OS_AUTH_URL, else "+defaultEndpoint+")")
	f.StringVar(&o.token, "token", firstEnv("", "OS_TOKEN", "COWDISK_IMAGE_TOKEN"), "X-Auth-Token")
	f.StringVar(&o.cacert, "cacert", firstEnv("", tlsconf.EnvCACert), "PEM file of the CAs an https service's (and Keystone's) certificate must chain to (env OS_CACERT)")
	f.BoolVar(&o.json, "json", false, "print JSON")
	f.StringVar(&o.progress, "progress", "auto", "progress bar on stderr: auto (when a terminal), always, never")
	c.AddCommand(createCmd(o), uploadCmd(o), listCmd(o), showCmd(o), downloadCmd(o), deleteCmd(o), updateCmd(o))
	clierr.Install(c, &o.json, clierr.Service{What: "image service", URL: o.url,
		Flags: "--endpoint, COWDISK_IMAGE_URL or OS_IMAGE_URL (or the Keystone catalog with OS_AUTH_URL)",
		Start: "cowdisk serve images", Example: defaultEndpoint})
	return c
}

func firstEnv(def string, keys ...string) string {
	for _, k := range keys {
		if v := os.Getenv(k); v != "" {
			return v
		}
	}
	return def
}

// defaultEndpoint is where `cowdisk serve images` listens by default.
const defaultEndpoint = "http://127.0.0.1:9292"

// url is the endpoint the commands use, for messages; "" when it comes
// from the Keystone catalog.
func (o *options) url() string {
	if o.endpoint == "" && o.token == "" && imageclient.KeystoneConfigured() {
		return ""
	}
	return cmp.Or(o.endpoint, defaultEndpoint)
}

func (o *options) client(ctx context.Context) (imageclient.Client, error) {
	hc, err := tlsconf.HTTPClient(o.cacert)
	if err != nil {
		return nil, fmt.Errorf("--cacert: %w", err)
	}
	opts := imageclient.Options{UserAgent: "cowdisk-cli", HTTPClient: hc}
	if o.token == "" && imageclient.KeystoneConfigured() {
		return imageclient.NewFromKeystone(ctx, o.endpoint, opts)
	}
	endpoint := o.endpoint
	if endpoint == "" {
		endpoint = defaultEndpoint
	}
	return imageclient.New(endpoint, o.token, opts)
}

// print writes one image (show, create, update) as JSON or as a field list.
func (o *options) print(w io.Writer, img imageclient.Image) error {
	if o.json {
		return writeJSON(w, img)
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	row := func(k string, v any) { fmt.Fprintf(tw, "%s\t%v\n", k, v) }
	row("id", img.ID)
	row("name", img.Name)
	row("status", img.Status)
	row("disk_format", img.DiskFormat)
	row("container_format", img.ContainerFormat)
	row("size", sizeBoth(img.Size))
	row("virtual_size", sizeBoth(img.VirtualSize))
	row("checksum", img.Checksum)
	row(img.OSHashAlgo, img.OSHashValue)
	row("owner", img.Owner)
	row("visibility", img.Visibility)
	row("protected", img.Protected)
	row("min_disk", img.MinDisk)
	row("min_ram", img.MinRAM)
	row("tags", strings.Join(img.Tags, ","))
	for k, v := range img.Properties {
		row(k, v)
	}
	if img.DirectURL != "" {
		row("direct_url", img.DirectURL)
	}
	row("created_at", img.CreatedAt)
	row("updated_at", img.UpdatedAt)
	return tw.Flush()
}

// printList writes images as JSON or as a table.
func (o *options) printList(w io.Writer, imgs []imageclient.Image) error {
	if o.json {
		if imgs == nil {
			imgs = []imageclient.Image{}
		}
		return writeJSON(w, imgs)
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tNAME\tSTATUS\tFORMAT\tSIZE\tVISIBILITY")
	for _, i := range imgs {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", i.ID, i.Name, i.Status, i.DiskFormat, sizeHuman(i.Size), i.Visibility)
	}
	return tw.Flush()
}

// sizeHuman is a size for tables: binary units, "-" before any upload.
func sizeHuman(n int64) string {
	if n <= 0 {
		return "-"
	}
	return units.Format(uint64(n))
}

// sizeBoth is a size for show: human and exact.
func sizeBoth(n int64) string {
	if n <= 0 {
		return "-"
	}
	return fmt.Sprintf("%s (%d bytes)", units.Format(uint64(n)), n)
}

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// properties parses repeated k=v flags.
func properties(kvs []string) (map[string]string, error) {
	m := map[string]string{}
	for _, kv := range kvs {
		k, v, ok := strings.Cut(kv, "=")
		if !ok || k == "" {
			return nil, fmt.Errorf("--property %q: want key=value: %w", kv, errs.ErrInvalid)
		}
		m[k] = v
	}
	return m, nil
}
