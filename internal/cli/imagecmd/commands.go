package imagecmd

import (
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/cowdisk/cowdisk/internal/imageclient"
)

func listCmd(o *options) *cobra.Command {
	var lo imageclient.ListOptions
	c := &cobra.Command{
		Use:   "list",
		Short: "List images",
		Example: `  cowdisk image list
  cowdisk image list --status active --tag base --sort-key size --sort-dir desc
  cowdisk image list --json   # sizes in exact bytes`,
		Args: cobra.NoArgs,
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
		Use:   "show ID|NAME",
		Short: "Show one image (by id, or by name when only one image has it)",
		Example: `  cowdisk image show debian-13
  cowdisk image show 3f0c2b6e-... --json`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			_, img, err := o.resolve(cmd, args[0])
			if err != nil {
				return err
			}
			return o.print(cmd.OutOrStdout(), img)
		},
	}
}

func deleteCmd(o *options) *cobra.Command {
	return &cobra.Command{
		Use:   "delete ID|NAME...",
		Short: "Delete images (by id, or by name when only one image has it)",
		Example: `  cowdisk image delete debian-13
  cowdisk image delete 3f0c2b6e-... 9a1d4c02-...`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			cl, err := o.client(cmd.Context())
			if err != nil {
				return err
			}
			var all error
			for _, arg := range args {
				img, err := resolve(cmd.Context(), cl, arg)
				if err == nil {
					err = cl.Delete(cmd.Context(), img.ID)
				}
				if err != nil {
					all = errors.Join(all, err)
					continue
				}
				fmt.Fprintln(cmd.OutOrStdout(), "deleted", img.ID, img.Name)
			}
			return all
		},
	}
}
