// Package cli assembles the cowdisk command tree. Each noun lives in its own
// package (devcmd, imagecmd, diskcmd, ...) so that commands stay small and
// independent, as in containerd's ctr.
package cli

import (
	"context"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/cowdisk/cowdisk/internal/buildinfo"

	"github.com/cowdisk/cowdisk/internal/cli/benchcmd"
	"github.com/cowdisk/cowdisk/internal/cli/cachecmd"
	"github.com/cowdisk/cowdisk/internal/cli/clierr"
	"github.com/cowdisk/cowdisk/internal/cli/devcmd"
	"github.com/cowdisk/cowdisk/internal/cli/diskcmd"
	"github.com/cowdisk/cowdisk/internal/cli/imagecmd"
	"github.com/cowdisk/cowdisk/internal/cli/servecmd"
	"github.com/cowdisk/cowdisk/internal/cli/versioncmd"
)

// Root builds the whole command tree.
func Root() *cobra.Command {
	var verbose bool
	root := &cobra.Command{
		Use:           "cowdisk",
		Short:         "Copy-on-write boot disks for VMs on Ceph RBD",
		Version:       buildinfo.Read().Short(),
		SilenceUsage:  true,
		SilenceErrors: true,
		PersistentPreRun: func(cmd *cobra.Command, _ []string) {
			level := slog.LevelInfo
			if verbose {
				level = slog.LevelDebug
			}
			slog.SetDefault(slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level})))
		},
	}
	root.PersistentFlags().BoolVarP(&verbose, "verbose", "v", false, "debug logging")
	root.AddCommand(devcmd.Command(), servecmd.Command())
	root.AddCommand(imagecmd.Command(), diskcmd.Command(), cachecmd.Command())
	root.AddCommand(benchcmd.Command(), versioncmd.Command())
	addExamples(root)
	return root
}

// Execute runs the command line and returns the process exit code. SIGINT and
// SIGTERM cancel the context, so servers shut down gracefully and imports
// remove their temporary images.
func Execute() int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if failed, err := Root().ExecuteContextC(ctx); err != nil {
		clierr.Print(os.Stderr, failed, err)
		return 1
	}
	return 0
}
