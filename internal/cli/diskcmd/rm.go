package diskcmd

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/cowdisk/cowdisk/internal/agent"
	"github.com/cowdisk/cowdisk/internal/errs"
)

// Removed is the answer of `disk rm`: the disks that were there before.
type Removed struct {
	Removed []RemovedDisk `json:"removed"`
}

// RemovedDisk names one removed disk.
type RemovedDisk struct {
	InstanceID string `json:"instance_id"`
	Name       string `json:"name"`
	Pool       string `json:"pool"`
	Image      string `json:"image"`
}

func rmCmd(client *agent.Client, asJSON *bool) *cobra.Command {
	var all bool
	c := &cobra.Command{
		Use: "rm INSTANCE [NAME]", Short: "Remove one disk, or with --all every disk of the instance", Args: cobra.RangeArgs(1, 2),
		Example: `  cowdisk disk rm 6f1e0c9a-0b7d-4c35-9a53-5d2f4c1e8a10          # its disk "disk"
  cowdisk disk rm 6f1e0c9a-0b7d-4c35-9a53-5d2f4c1e8a10 data --json
  cowdisk disk rm 6f1e0c9a-0b7d-4c35-9a53-5d2f4c1e8a10 --all`,
		RunE: func(cmd *cobra.Command, args []string) error {
			if all && len(args) > 1 {
				return fmt.Errorf("--all takes no disk name: %w", errs.ErrInvalid)
			}
			// The agent's delete is idempotent and answers 204 either way;
			// listing first is how the command can say what it removed.
			before, err := client.ListDisks(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			res := Removed{Removed: []RemovedDisk{}}
			for _, d := range before {
				if all || d.Name == diskName(args) {
					res.Removed = append(res.Removed, RemovedDisk{d.InstanceID, d.Name, d.Pool, d.Image})
				}
			}
			if all {
				err = client.DeleteInstance(cmd.Context(), args[0])
			} else {
				err = client.DeleteDisk(cmd.Context(), args[0], diskName(args))
			}
			if err != nil {
				return err
			}
			return printRemoved(cmd, *asJSON, args, res)
		},
	}
	c.Flags().BoolVar(&all, "all", false, "remove every disk of the instance")
	return c
}

func printRemoved(cmd *cobra.Command, asJSON bool, args []string, res Removed) error {
	if asJSON {
		return Print(cmd.OutOrStdout(), true, res, nil)
	}
	w := cmd.OutOrStdout()
	if len(res.Removed) == 0 {
		_, err := fmt.Fprintf(w, "nothing to remove: instance %s has no disk %s\n", args[0], diskName(args))
		return err
	}
	for _, d := range res.Removed {
		fmt.Fprintf(w, "removed %s/%s (instance %s, disk %s)\n", d.Pool, d.Image, d.InstanceID, d.Name)
	}
	return nil
}
