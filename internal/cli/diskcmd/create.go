package diskcmd

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/cowdisk/cowdisk/internal/agent"
	"github.com/cowdisk/cowdisk/internal/cli/clierr"
	"github.com/cowdisk/cowdisk/internal/units"
)

func createCmd(client *agent.Client, asJSON *bool) *cobra.Command {
	var req agent.CreateRequest
	var size string
	c := &cobra.Command{
		Use: "create --instance ID --image ID [--name disk] [--size SIZE]", Short: "Create a disk from an image", Args: cobra.NoArgs,
		Example: `  cowdisk disk create --instance 6f1e0c9a-0b7d-4c35-9a53-5d2f4c1e8a10 --image 3f0c2b6e-...
  cowdisk disk create --instance 6f1e0c9a-... --image 3f0c2b6e-... --name data --size 40G --json`,
		Annotations: map[string]string{clierr.Long: "", clierr.ServerWorks: ""},
		RunE: func(cmd *cobra.Command, _ []string) error {
			if size != "" {
				n, err := units.ParseSize(size)
				if err != nil {
					return fmt.Errorf("--size: %w", err)
				}
				req.SizeBytes = n
			}
			stop := showProgress(cmd.Context(), client, cmd.ErrOrStderr())
			d, created, err := client.CreateDisk(cmd.Context(), req)
			stop()
			if err != nil {
				return err
			}
			if !created && !*asJSON {
				fmt.Fprintln(cmd.ErrOrStderr(), "disk already existed from this image")
			}
			return Print(cmd.OutOrStdout(), *asJSON, d, diskTable(d))
		},
	}
	c.Flags().StringVar(&req.InstanceID, "instance", "", "instance id (uuid)")
	c.Flags().StringVar(&req.ImageID, "image", "", "image id")
	c.Flags().StringVar(&req.Name, "name", "", "disk name (default disk)")
	c.Flags().StringVar(&size, "size", "", "disk size, e.g. 20G (binary units, as rbd and qemu-img: G = GiB; default: the image's size)")
	_ = c.MarkFlagRequired("instance")
	_ = c.MarkFlagRequired("image")
	return c
}
