// Package cachecmd is `cowdisk cache`: the cluster-wide base cache the
// fallback fills (one converted base per image, cloned by every later disk).
package cachecmd

import (
	"fmt"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/cowdisk/cowdisk/internal/agent"
	"github.com/cowdisk/cowdisk/internal/cli/clierr"
	"github.com/cowdisk/cowdisk/internal/cli/diskcmd"
	"github.com/cowdisk/cowdisk/internal/errs"
)

// Command is `cowdisk cache`.
func Command() *cobra.Command {
	c := &cobra.Command{Use: "cache", Short: "Show and prune the base image cache (via the node agent)",
		Example: `  cowdisk cache ls
  cowdisk cache prune --dry-run --older-than 168h`}
	client := agent.BindClient(c.PersistentFlags())
	var asJSON bool
	c.PersistentFlags().BoolVar(&asJSON, "json", false, "print JSON")
	c.AddCommand(lsCmd(client, &asJSON), pruneCmd(client, &asJSON))
	clierr.Install(c, &asJSON, diskcmd.AgentService(client))
	return c
}

func lsCmd(client *agent.Client, asJSON *bool) *cobra.Command {
	return &cobra.Command{
		Use: "ls", Short: "List bases with the disks cloned from them", Args: cobra.NoArgs,
		Example: `  cowdisk cache ls
  cowdisk cache ls --json   # sizes in exact bytes, created_at in RFC 3339`,
		RunE: func(cmd *cobra.Command, _ []string) error {
			bases, err := client.Cache(cmd.Context())
			if err != nil {
				return err
			}
			return diskcmd.Print(cmd.OutOrStdout(), *asJSON, bases, func(tw *tabwriter.Writer) {
				fmt.Fprintln(tw, "IMAGE ID\tBASE\tSIZE\tAGE\tDISKS")
				for _, b := range bases {
					fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d %s\n", b.ImageID, diskcmd.BaseRef(b),
						diskcmd.Bytes(b.SizeBytes), age(b.CreatedAt), len(b.Children), strings.Join(b.Children, ","))
				}
			})
		},
	}
}

// age is how long ago an RFC 3339 time was, to the minute ("3h5m"); "-"
// if unknown.
func age(created string) string {
	t, err := time.Parse(time.RFC3339, created)
	if err != nil {
		return "-"
	}
	d := time.Since(t).Truncate(time.Minute)
	if d < time.Minute {
		return "<1m"
	}
	return strings.TrimSuffix(d.String(), "0s")
}

func pruneCmd(client *agent.Client, asJSON *bool) *cobra.Command {
	var dryRun bool
	var olderThan time.Duration
	c := &cobra.Command{
		Use: "prune", Short: "Remove bases no disk is cloned from", Args: cobra.NoArgs,
		Example: `  cowdisk cache prune --dry-run               # list what would go
  cowdisk cache prune --older-than 72h        # spare bases made in the last 3 days`,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if olderThan < 0 {
				return fmt.Errorf("--older-than %s: want a positive duration such as 72h: %w", olderThan, errs.ErrInvalid)
			}
			res, err := client.PruneWith(cmd.Context(), dryRun, olderThan)
			if err != nil {
				return err
			}
			return diskcmd.Print(cmd.OutOrStdout(), *asJSON, res, func(tw *tabwriter.Writer) {
				verb := "removed"
				if res.DryRun {
					verb = "would remove (dry run)"
				}
				fmt.Fprintf(tw, "%s %d base(s)\n", verb, len(res.Removed))
				for _, r := range res.Removed {
					fmt.Fprintln(tw, r)
				}
			})
		},
	}
	c.Flags().BoolVar(&dryRun, "dry-run", false, "list the bases that would be removed, remove nothing")
	c.Flags().DurationVar(&olderThan, "older-than", 0, "only bases created at least this long ago, e.g. 72h (bases of unknown age are kept)")
	return c
}
