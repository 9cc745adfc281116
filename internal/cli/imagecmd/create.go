package imagecmd

import (
	"context"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/cowdisk/cowdisk/internal/cli/clierr"
	"github.com/cowdisk/cowdisk/internal/imageclient"
)

// cleanupTimeout bounds removing a failed image's record; it runs on its
// own context because the command's may be the one that was cancelled.
const cleanupTimeout = 30 * time.Second

func createCmd(o *options) *cobra.Command {
	var co imageclient.CreateOptions
	var props []string
	var file string
	var keep bool
	c := &cobra.Command{
		Use:   "create NAME",
		Short: "Create an image record (and upload --file into it)",
		Example: `  cowdisk image create debian-13 --file debian-13.qcow2 --disk-format qcow2
  cowdisk image create cirros --file - --disk-format qcow2 < cirros.img
  cowdisk image create empty --visibility public --tag base`,
		Args:        cobra.ExactArgs(1),
		Annotations: map[string]string{clierr.Long: ""},
		RunE: func(cmd *cobra.Command, args []string) error {
			var err error
			if co.Properties, err = properties(props); err != nil {
				return err
			}
			// Open the file first: a missing file must not leave a record.
			var src *source
			if file != "" {
				if src, err = openSource(cmd, file); err != nil {
					return err
				}
				defer src.Close()
			}
			cl, err := o.client(cmd.Context())
			if err != nil {
				return err
			}
			co.Name = args[0]
			img, err := cl.Create(cmd.Context(), co)
			if err != nil {
				return err
			}
			if src != nil {
				if err := o.upload(cmd, cl, img.ID, src); err != nil {
					return abandon(cmd, cl, img, file, keep, err)
				}
				if img, err = cl.Get(cmd.Context(), img.ID); err != nil {
					return err
				}
			}
			return o.print(cmd.OutOrStdout(), img)
		},
	}
	f := c.Flags()
	f.StringVar(&co.ID, "id", "", "image id (default: chosen by the service)")
	f.StringVar(&co.DiskFormat, "disk-format", "raw", "raw, qcow2, vmdk, vhd, vhdx, vdi or iso")
	f.StringVar(&co.ContainerFormat, "container-format", "bare", "container format")
	f.StringVar(&co.Visibility, "visibility", "", "private, shared, community or public")
	f.StringSliceVar(&co.Tags, "tag", nil, "tag (repeatable)")
	f.StringArrayVar(&props, "property", nil, "custom property key=value (repeatable)")
	f.IntVar(&co.MinDisk, "min-disk", 0, "minimum disk size in GiB")
	f.IntVar(&co.MinRAM, "min-ram", 0, "minimum RAM in MiB")
	f.BoolVar(&co.Protected, "protected", false, "refuse deletion")
	f.StringVar(&file, "file", "", "upload this file (- for stdin) after creating")
	f.BoolVar(&keep, "keep", false, "keep the image record when the upload fails (default: delete it)")
	return c
}

// abandon handles a failed upload into a new image: the record is deleted
// (a queued record with no data only gets in the way) unless --keep, and
// the message says which happened.
// The cause names the image id already.
func abandon(cmd *cobra.Command, cl imageclient.Client, img imageclient.Image, file string, keep bool, cause error) error {
	if keep {
		return fmt.Errorf("new image %q: upload failed, record kept (--keep); retry with `cowdisk image upload %s %s`: %w",
			img.Name, img.ID, file, cause)
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(cmd.Context()), cleanupTimeout)
	defer cancel()
	if err := cl.Delete(ctx, img.ID); err != nil {
		return fmt.Errorf("new image %q: upload failed and deleting its record failed too (%v), remove it with `cowdisk image delete %s`: %w",
			img.Name, err, img.ID, cause)
	}
	return fmt.Errorf("new image %q: upload failed, record deleted again (--keep keeps it): %w", img.Name, cause)
}

func uploadCmd(o *options) *cobra.Command {
	return &cobra.Command{
		Use:   "upload ID|NAME FILE",
		Short: "Upload image data from FILE (- for stdin, sent chunked)",
		Example: `  cowdisk image upload 3f0c... debian-13.raw
  xz -dc debian.raw.xz | cowdisk image upload debian -`,
		Args:        cobra.ExactArgs(2),
		Annotations: map[string]string{clierr.Long: ""},
		RunE: func(cmd *cobra.Command, args []string) error {
			src, err := openSource(cmd, args[1])
			if err != nil {
				return err
			}
			defer src.Close()
			cl, img, err := o.resolve(cmd, args[0])
			if err != nil {
				return err
			}
			return o.upload(cmd, cl, img.ID, src)
		},
	}
}

// source is the data to upload: a file with its size, or stdin (size -1).
type source struct {
	io.Reader
	size int64
	f    *os.File
}

func (s *source) Close() {
	if s.f != nil {
		s.f.Close()
	}
}

func openSource(cmd *cobra.Command, path string) (*source, error) {
	if path == "-" {
		return &source{Reader: cmd.InOrStdin(), size: -1}, nil
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, err
	}
	return &source{Reader: f, size: st.Size(), f: f}, nil
}

func (o *options) upload(cmd *cobra.Command, cl imageclient.Client, id string, src *source) error {
	p := o.newProgress(cmd.ErrOrStderr(), "upload", src.size)
	defer p.done()
	// progressReader hides *os.File from net/http, which would otherwise
	// try sendfile; the declared size still travels in x-openstack-image-size.
	return cl.Upload(cmd.Context(), id, p.reader(src.Reader), src.size)
}
