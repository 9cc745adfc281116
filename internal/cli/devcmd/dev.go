// Package devcmd is `cowdisk dev`: tooling for a throwaway local Ceph cluster.
package devcmd

import (
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/cowdisk/cowdisk/internal/devcluster"
)

// Command is `cowdisk dev`.
func Command() *cobra.Command {
	dev := &cobra.Command{Use: "dev", Short: "Developer tooling"}
	cluster := &cobra.Command{Use: "cluster", Short: "Boot or stop a throwaway 1-mon 1-OSD Ceph on loopback"}
	cluster.AddCommand(upCommand(), downCommand(), stopCommand(), startCommand(), envCommand())
	dev.AddCommand(cluster)
	return dev
}

func upCommand() *cobra.Command {
	var o devcluster.Options
	var pools string
	c := &cobra.Command{
		Use:   "up",
		Short: "Boot a cluster in --dir and print its environment as export lines",
		RunE: func(cmd *cobra.Command, _ []string) error {
			if pools != "" {
				o.Pools = strings.Split(pools, ",")
			}
			start := time.Now()
			cl, err := devcluster.Up(cmd.Context(), o)
			if err != nil {
				return err
			}
			for _, kv := range cl.Env() {
				fmt.Fprintf(cmd.OutOrStdout(), "export %s\n", kv)
			}
			fmt.Fprintf(cmd.ErrOrStderr(), "# dev cluster %s up in %s (fsid %s, mon %s)\n",
				cl.Dir, time.Since(start).Round(time.Millisecond), cl.FSID, cl.MonAddr)
			return nil
		},
	}
	c.Flags().StringVar(&o.Dir, "dir", "", "directory for the cluster's data, config and logs (required)")
	c.Flags().StringVar(&o.ObjectStore, "objectstore", "memstore", "memstore (fast, in memory) or bluestore (file-backed, survives kill)")
	c.Flags().StringVar(&pools, "pools", "images,vms", "comma-separated rbd pools to create")
	_ = c.MarkFlagRequired("dir")
	return c
}

func downCommand() *cobra.Command {
	var dir string
	c := &cobra.Command{
		Use:   "down",
		Short: "Stop the daemons started in --dir (by pid) and REMOVE the directory with its data",
		Long: "Stops the cluster's daemons by pid and removes --dir with all its data.\n" +
			"To stop a cluster and keep its data for a later `start`, use `stop`.",
		Example: "  cowdisk dev cluster down --dir /tmp/cowdisk-dev",
		RunE: func(cmd *cobra.Command, _ []string) error {
			return devcluster.Down(cmd.Context(), dir)
		},
	}
	requireDir(c, &dir)
	return c
}

func stopCommand() *cobra.Command {
	var dir string
	c := &cobra.Command{
		Use:   "stop",
		Short: "Stop the daemons started in --dir (by pid) and keep the directory and its data",
		Long: "Stops the monitor and the OSD by pid. The directory stays: a bluestore cluster can be\n" +
			"started again with its data (`start`); a memstore cluster's data is gone.",
		Example: "  cowdisk dev cluster stop --dir /tmp/c2 && cowdisk dev cluster start --dir /tmp/c2",
		RunE: func(cmd *cobra.Command, _ []string) error {
			return devcluster.Stop(cmd.Context(), dir)
		},
	}
	requireDir(c, &dir)
	return c
}

func startCommand() *cobra.Command {
	var dir string
	c := &cobra.Command{
		Use:     "start",
		Short:   "Start a stopped bluestore cluster in --dir again, with its data",
		Example: "  cowdisk dev cluster start --dir /tmp/c2",
		RunE: func(cmd *cobra.Command, _ []string) error {
			cl, err := devcluster.Start(cmd.Context(), dir)
			if err != nil {
				return err
			}
			for _, kv := range cl.Env() {
				fmt.Fprintf(cmd.OutOrStdout(), "export %s\n", kv)
			}
			return nil
		},
	}
	requireDir(c, &dir)
	return c
}

func envCommand() *cobra.Command {
	var dir string
	c := &cobra.Command{
		Use:   "env",
		Short: "Print the export lines of a running cluster",
		RunE: func(cmd *cobra.Command, _ []string) error {
			cl, err := devcluster.Load(dir)
			if err != nil {
				return fmt.Errorf("no dev cluster in %s: %w", dir, err)
			}
			for _, kv := range cl.Env() {
				fmt.Fprintf(cmd.OutOrStdout(), "export %s\n", kv)
			}
			return nil
		},
	}
	requireDir(c, &dir)
	return c
}

// requireDir adds the --dir flag that down and env share: both act on a
// cluster booted earlier, so they cannot guess where it is.
func requireDir(c *cobra.Command, dir *string) {
	c.Flags().StringVar(dir, "dir", "", "the cluster directory (required)")
	_ = c.MarkFlagRequired("dir")
}
