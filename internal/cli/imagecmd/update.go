package imagecmd

import (
	"github.com/spf13/cobra"

	"github.com/cowdisk/cowdisk/internal/imageclient"
)

func updateCmd(o *options) *cobra.Command {
	var (
		name, visibility string
		tags, props, rm  []string
		minDisk, minRAM  int
		protected        bool
	)
	c := &cobra.Command{
		Use:   "update ID|NAME",
		Short: "Change an image's name, visibility, tags or properties",
		Example: `  cowdisk image update debian-13 --name debian-13-old --visibility private
  cowdisk image update 3f0c2b6e-... --property os_distro=debian --remove-property hw_qemu_guest_agent`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			var u imageclient.Update
			f := cmd.Flags()
			if f.Changed("name") {
				u.Name = &name
			}
			if f.Changed("visibility") {
				u.Visibility = &visibility
			}
			if f.Changed("tag") {
				u.Tags = append([]string{}, tags...)
			}
			if f.Changed("min-disk") {
				u.MinDisk = &minDisk
			}
			if f.Changed("min-ram") {
				u.MinRAM = &minRAM
			}
			if f.Changed("protected") {
				u.Protected = &protected
			}
			var err error
			if u.Set, err = properties(props); err != nil {
				return err
			}
			u.Remove = rm
			cl, img, err := o.resolve(cmd, args[0])
			if err != nil {
				return err
			}
			img, err = cl.Update(cmd.Context(), img.ID, u)
			if err != nil {
				return err
			}
			return o.print(cmd.OutOrStdout(), img)
		},
	}
	f := c.Flags()
	f.StringVar(&name, "name", "", "new name")
	f.StringVar(&visibility, "visibility", "", "private, shared, community or public")
	f.StringSliceVar(&tags, "tag", nil, "replace the tags (repeatable)")
	f.StringArrayVar(&props, "property", nil, "set custom property key=value (repeatable)")
	f.StringArrayVar(&rm, "remove-property", nil, "remove custom property (repeatable)")
	f.IntVar(&minDisk, "min-disk", 0, "minimum disk size in GiB")
	f.IntVar(&minRAM, "min-ram", 0, "minimum RAM in MiB")
	f.BoolVar(&protected, "protected", false, "refuse deletion (--protected=false to allow)")
	return c
}
