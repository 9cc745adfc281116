// Package diskcmd is `cowdisk disk`: instance disks through the node agent.
package diskcmd

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/cowdisk/cowdisk/internal/agent"
	"github.com/cowdisk/cowdisk/internal/cli/clierr"
	"github.com/cowdisk/cowdisk/internal/units"
)

// Command is `cowdisk disk`.
func Command() *cobra.Command {
	c := &cobra.Command{Use: "disk", Short: "Create and manage instance disks (via the node agent)",
		Example: `  cowdisk disk create --instance 6f1e0c9a-... --image 3f0c2b6e-...
  cowdisk disk ls
  COWDISK_AGENT=http://127.0.0.1:9393 cowdisk disk tree`}
	client := agent.BindClient(c.PersistentFlags())
	var asJSON bool
	c.PersistentFlags().BoolVar(&asJSON, "json", false, "print JSON")
	c.AddCommand(createCmd(client, &asJSON), lsCmd(client, &asJSON), showCmd(client, &asJSON),
		rmCmd(client, &asJSON), resizeCmd(client, &asJSON), flattenCmd(client, &asJSON), xmlCmd(client, &asJSON), treeCmd(client, &asJSON))
	clierr.Install(c, &asJSON, AgentService(client))
	return c
}

// AgentService describes the node agent for clierr's messages.
func AgentService(client *agent.Client) clierr.Service {
	return clierr.Service{What: "node agent", URL: func() string { return client.Base },
		Flags: "--agent or " + agent.EnvAgent, Start: "cowdisk serve node", Example: "http://" + agent.DefaultAddr}
}

func lsCmd(client *agent.Client, asJSON *bool) *cobra.Command {
	var instance string
	c := &cobra.Command{
		Use: "ls", Short: "List disks (of one instance with --instance)", Args: cobra.NoArgs,
		Example: `  cowdisk disk ls
  cowdisk disk ls --instance 6f1e0c9a-0b7d-4c35-9a53-5d2f4c1e8a10 --json`,
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
		Example: `  cowdisk disk show 6f1e0c9a-0b7d-4c35-9a53-5d2f4c1e8a10
  cowdisk disk show 6f1e0c9a-0b7d-4c35-9a53-5d2f4c1e8a10 data --json`,
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

func resizeCmd(client *agent.Client, asJSON *bool) *cobra.Command {
	var size string
	c := &cobra.Command{
		Use: "resize INSTANCE [NAME] --size SIZE", Short: "Grow a disk", Args: cobra.RangeArgs(1, 2),
		Example: `  cowdisk disk resize 6f1e0c9a-0b7d-4c35-9a53-5d2f4c1e8a10 --size 40G
  cowdisk disk resize 6f1e0c9a-0b7d-4c35-9a53-5d2f4c1e8a10 data --size 1.5T`,
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
		Example:     `  cowdisk disk flatten 6f1e0c9a-0b7d-4c35-9a53-5d2f4c1e8a10`,
		Annotations: map[string]string{clierr.Long: "", clierr.ServerWorks: ""},
		RunE: func(cmd *cobra.Command, args []string) error {
			d, err := client.Flatten(cmd.Context(), args[0], diskName(args))
			if err != nil {
				return err
			}
			return Print(cmd.OutOrStdout(), *asJSON, d, diskTable(d))
		},
	}
}

func xmlCmd(client *agent.Client, asJSON *bool) *cobra.Command {
	var target string
	c := &cobra.Command{
		Use: "xml INSTANCE [NAME]", Short: "Print the libvirt <disk> element", Args: cobra.RangeArgs(1, 2),
		Example: `  cowdisk disk xml 6f1e0c9a-0b7d-4c35-9a53-5d2f4c1e8a10 > disk.xml && virsh attach-device vm1 disk.xml
  cowdisk disk xml 6f1e0c9a-0b7d-4c35-9a53-5d2f4c1e8a10 data --target vdb --json`,
		RunE: func(cmd *cobra.Command, args []string) error {
			doc, err := client.LibvirtXML(cmd.Context(), args[0], diskName(args), target)
			if err != nil {
				return err
			}
			if *asJSON {
				return Print(cmd.OutOrStdout(), true, map[string]string{"xml": doc}, nil)
			}
			_, err = fmt.Fprint(cmd.OutOrStdout(), doc)
			return err
		},
	}
	c.Flags().StringVar(&target, "target", "", "guest device (default vda)")
	return c
}
