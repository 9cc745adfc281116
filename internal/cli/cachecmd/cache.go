// Package cachecmd is `cowdisk cache`: the cluster-wide base cache the
// fallback fills (one converted base per image, cloned by every later disk).
package cachecmd

import (
	"fmt"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/cowdisk/cowdisk/internal/agent"
	"github.com/cowdisk/cowdisk/internal/cli/diskcmd"
)

// Command is `cowdisk cache`.
func Command() *cobra.Command {
	c := &cobra.Command{Use: "cache", Short: "Show and prune the base image cache (via the node agent)"}
	client := agent.BindClient(c.PersistentFlags())
	var asJSON bool
	c.PersistentFlags().BoolVar(&asJSON, "json", false, "print JSON")
	c.AddCommand(&cobra.Command{
		Use: "ls", Short: "List bases with the disks cloned from them", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			bases, err := client.Cache(cmd.Context())
			if err != nil {
				return err
			}
			return diskcmd.Print(cmd.OutOrStdout(), asJSON, bases, func(tw *tabwriter.Writer) {
				fmt.Fprintln(tw, "IMAGE ID\tBASE\tSIZE\tDISKS")
				for _, b := range bases {
					fmt.Fprintf(tw, "%s\t%s/%s@%s\t%s\t%d %s\n", b.ImageID, b.Pool, b.Image, b.Snapshot,
						diskcmd.Bytes(b.SizeBytes), len(b.Children), strings.Join(b.Children, ","))
				}
			})
		},
	}, &cobra.Command{
		Use: "prune", Short: "Remove bases no disk is cloned from", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			res, err := client.Prune(cmd.Context())
			if err != nil {
				return err
			}
			return diskcmd.Print(cmd.OutOrStdout(), asJSON, res, func(tw *tabwriter.Writer) {
				fmt.Fprintf(tw, "removed %d base(s)\n", len(res.Removed))
				for _, r := range res.Removed {
					fmt.Fprintln(tw, r)
				}
			})
		},
	})
	return c
}
