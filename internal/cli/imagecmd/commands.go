package imagecmd

import (
	"crypto/md5"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/cowdisk/cowdisk/internal/errs"
	"github.com/cowdisk/cowdisk/internal/imageclient"
)

func createCmd(o *options) *cobra.Command {
	var co imageclient.CreateOptions
	var props []string
	var file string
	c := &cobra.Command{
		Use:   "create NAME",
		Short: "Create an image record (and upload --file into it)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			cl, err := o.client(cmd.Context())
			if err != nil {
				return err
			}
			if co.Properties, err = properties(props); err != nil {
				return err
			}
			co.Name = args[0]
			img, err := cl.Create(cmd.Context(), co)
			if err != nil {
				return err
			}
			if file != "" {
				if err := o.uploadFile(cmd, cl, img.ID, file); err != nil {
					return fmt.Errorf("image %s created, upload failed (retry with `cowdisk image upload %s %s`): %w",
						img.ID, img.ID, file, err)
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
	return c
}

func uploadCmd(o *options) *cobra.Command {
	return &cobra.Command{
		Use:   "upload ID FILE",
		Short: "Upload image data from FILE (- for stdin, sent chunked)",
		Args:  cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			cl, err := o.client(cmd.Context())
			if err != nil {
				return err
			}
			return o.uploadFile(cmd, cl, args[0], args[1])
		},
	}
}

func (o *options) uploadFile(cmd *cobra.Command, cl imageclient.Client, id, path string) error {
	var r io.Reader = cmd.InOrStdin()
	size := int64(-1)
	if path != "-" {
		f, err := os.Open(path)
		if err != nil {
			return err
		}
		defer f.Close()
		st, err := f.Stat()
		if err != nil {
			return err
		}
		r, size = f, st.Size()
	}
	p := o.newProgress(cmd.ErrOrStderr(), "upload", size)
	defer p.done()
	// progressReader hides *os.File from net/http, which would otherwise
	// try sendfile; the declared size still travels in x-openstack-image-size.
	return cl.Upload(cmd.Context(), id, p.reader(r), size)
}

func listCmd(o *options) *cobra.Command {
	var lo imageclient.ListOptions
	c := &cobra.Command{
		Use:   "list",
		Short: "List images",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cl, err := o.client(cmd.Context())
			if err != nil {
				return err
			}
			imgs, err := cl.List(cmd.Context(), lo)
			if err != nil {
				return err
			}
			return o.printList(cmd.OutOrStdout(), imgs)
		},
	}
	f := c.Flags()
	f.StringVar(&lo.Name, "name", "", "only this name")
	f.StringVar(&lo.Status, "status", "", "only this status")
	f.StringVar(&lo.Visibility, "visibility", "", "private, shared, community, public or all")
	f.StringVar(&lo.Owner, "owner", "", "only this project's")
	f.StringVar(&lo.DiskFormat, "disk-format", "", "only this disk format")
	f.StringSliceVar(&lo.Tags, "tag", nil, "only with this tag (repeatable)")
	f.StringVar(&lo.SortKey, "sort-key", "", "created_at, name, size, ...")
	f.StringVar(&lo.SortDir, "sort-dir", "", "asc or desc")
	f.IntVar(&lo.Max, "limit", 0, "at most this many (0: all)")
	return c
}

func showCmd(o *options) *cobra.Command {
	return &cobra.Command{
		Use:   "show ID",
		Short: "Show one image",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			cl, err := o.client(cmd.Context())
			if err != nil {
				return err
			}
			img, err := cl.Get(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			return o.print(cmd.OutOrStdout(), img)
		},
	}
}

func downloadCmd(o *options) *cobra.Command {
	var out string
	c := &cobra.Command{
		Use:   "download ID",
		Short: "Download image data and check it against the image's md5",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			cl, err := o.client(cmd.Context())
			if err != nil {
				return err
			}
			return o.download(cmd, cl, args[0], out)
		},
	}
	c.Flags().StringVarP(&out, "output", "o", "", "file to write (- for stdout; default: the image id)")
	return c
}

// download writes to a temporary file renamed into place only after the
// checksum matched, so a cut or corrupt download never looks complete.
func (o *options) download(cmd *cobra.Command, cl imageclient.Client, id, out string) (err error) {
	ctx := cmd.Context()
	img, err := cl.Get(ctx, id)
	if err != nil {
		return err
	}
	body, err := cl.Download(ctx, id)
	if err != nil {
		return err
	}
	defer body.Close()
	var w io.Writer = cmd.OutOrStdout()
	if out == "" {
		out = id
	}
	var tmp *os.File
	if out != "-" {
		if tmp, err = os.CreateTemp(filepath.Dir(out), "."+filepath.Base(out)+".part-*"); err != nil {
			return err
		}
		defer func() {
			if err != nil {
				tmp.Close()
				os.Remove(tmp.Name())
			}
		}()
		w = tmp
	}
	p := o.newProgress(cmd.ErrOrStderr(), "download", img.Size)
	sum := md5.New()
	_, err = io.Copy(io.MultiWriter(w, sum), p.reader(body))
	p.done()
	if err != nil {
		return fmt.Errorf("download image %s: %w", id, err)
	}
	if got := hex.EncodeToString(sum.Sum(nil)); img.Checksum != "" && got != img.Checksum {
		return fmt.Errorf("download image %s: md5 %s, image says %s: %w", id, got, img.Checksum, errs.ErrChecksum)
	}
	if tmp == nil {
		return nil
	}
	if err = tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), out)
}

func deleteCmd(o *options) *cobra.Command {
	return &cobra.Command{
		Use:   "delete ID...",
		Short: "Delete images",
		Args:  cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			cl, err := o.client(cmd.Context())
			if err != nil {
				return err
			}
			var all error
			for _, id := range args {
				if err := cl.Delete(cmd.Context(), id); err != nil {
					all = errors.Join(all, err)
					continue
				}
				fmt.Fprintln(cmd.OutOrStdout(), "deleted", id)
			}
			return all
		},
	}
}
