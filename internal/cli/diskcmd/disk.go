// Package diskcmd is `cowdisk disk`: instance disks through the node agent.
package diskcmd

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/cowdisk/cowdisk/internal/agent"
	"github.com/cowdisk/cowdisk/internal/units"
)

// Command is `cowdisk disk`.
func Command() *cobra.Command {
	c := &cobra.Command{Use: "disk", Short: "Create and manage instance disks (via the node agent)"}
	client := agent.BindClient(c.PersistentFlags())
	var asJSON bool
	c.PersistentFlags().BoolVar(&asJSON, "json", false, "print JSON")
	c.AddCommand(createCmd(client, &asJSON), lsCmd(client, &asJSON), showCmd(client, &asJSON),
		rmCmd(client), resizeCmd(client, &asJSON), flattenCmd(client, &asJSON), xmlCmd(client), treeCmd(client, &asJSON))
	return c
}

func lsCmd(client *agent.Client, asJSON *bool) *cobra.Command {
	var instance string
	c := &cobra.Command{
		Use: "ls", Short: "List disks (of one instance with --instance)", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			disks, err := client.ListDisks(cmd.Context(), instance)
			if err != nil {
				return err
			}
			return Print(cmd.OutOrStdout(), *asJSON, disks, diskTable(disks...))
		},
	}
	c.Flags().StringVar(&instance, "instance", "", "instance id")
	return c
}

func showCmd(client *agent.Client, asJSON *bool) *cobra.Command {
	return &cobra.Command{
		Use: "show INSTANCE [NAME]", Short: "Show one disk", Args: cobra.RangeArgs(1, 2),
		RunE: func(cmd *cobra.Command, args []string) error {
			d, err := client.GetDisk(cmd.Context(), args[0], diskName(args))
			if err != nil {
				return err
			}
			return Print(cmd.OutOrStdout(), *asJSON, d, diskTable(d))
		},
	}
}

// diskName is the optional NAME argument, Nova's "disk" by default.
func diskName(args []string) string {
	if len(args) > 1 {
		return args[1]
	}
	return "disk"
}

func rmCmd(client *agent.Client) *cobra.Command {
	var all bool
	c := &cobra.Command{
		Use: "rm INSTANCE [NAME]", Short: "Remove one disk, or with --all every disk of the instance", Args: cobra.RangeArgs(1, 2),
		RunE: func(cmd *cobra.Command, args []string) error {
			if all {
				if len(args) > 1 {
					return fmt.Errorf("--all takes no disk name")
				}
				return client.DeleteInstance(cmd.Context(), args[0])
			}
			return client.DeleteDisk(cmd.Context(), args[0], diskName(args))
		},
	}
	c.Flags().BoolVar(&all, "all", false, "remove every disk of the instance")
	return c
}

func resizeCmd(client *agent.Client, asJSON *bool) *cobra.Command {
	var size string
	c := &cobra.Command{
		Use: "resize INSTANCE [NAME] --size SIZE", Short: "Grow a disk", Args: cobra.RangeArgs(1, 2),
		RunE: func(cmd *cobra.Command, args []string) error {
			n, err := units.ParseSize(size)
			if err != nil {
				return fmt.Errorf("--size: %w", err)
			}
			d, err := client.Resize(cmd.Context(), args[0], diskName(args), n)
			if err != nil {
				return err
			}
			return Print(cmd.OutOrStdout(), *asJSON, d, diskTable(d))
		},
	}
	c.Flags().StringVar(&size, "size", "", "new size, e.g. 40G (binary units: G = GiB)")
	_ = c.MarkFlagRequired("size")
	return c
}

func flattenCmd(client *agent.Client, asJSON *bool) *cobra.Command {
	return &cobra.Command{
		Use: "flatten INSTANCE [NAME]", Short: "Copy the parent's data into the disk and detach it", Args: cobra.RangeArgs(1, 2),
		RunE: func(cmd *cobra.Command, args []string) error {
			d, err := client.Flatten(cmd.Context(), args[0], diskName(args))
			if err != nil {
				return err
			}
			return Print(cmd.OutOrStdout(), *asJSON, d, diskTable(d))
		},
	}
}

func xmlCmd(client *agent.Client) *cobra.Command {
	var target string
	c := &cobra.Command{
		Use: "xml INSTANCE [NAME]", Short: "Print the libvirt <disk> element", Args: cobra.RangeArgs(1, 2),
		RunE: func(cmd *cobra.Command, args []string) error {
			doc, err := client.LibvirtXML(cmd.Context(), args[0], diskName(args), target)
			if err != nil {
				return err
			}
			_, err = fmt.Fprint(cmd.OutOrStdout(), doc)
			return err
		},
	}
	c.Flags().StringVar(&target, "target", "", "guest device (default vda)")
	return c
}
