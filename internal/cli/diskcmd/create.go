package diskcmd

import (
	"context"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/dustin/go-humanize"
	"github.com/mattn/go-isatty"
	"github.com/spf13/cobra"

	"github.com/cowdisk/cowdisk/internal/agent"
	"github.com/cowdisk/cowdisk/internal/units"
)

func createCmd(client *agent.Client, asJSON *bool) *cobra.Command {
	var req agent.CreateRequest
	var size string
	c := &cobra.Command{
		Use: "create --instance ID --image ID [--name disk] [--size SIZE]", Short: "Create a disk from an image", Args: cobra.NoArgs,
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

// showProgress draws a one-line progress display on a terminal while a create
// runs: a clone finishes before the first tick, a fallback import shows the
// image bytes the agent has downloaded and written so far. It returns the
// function that stops it and clears the line.
func showProgress(ctx context.Context, client *agent.Client, w io.Writer) func() {
	f, ok := w.(*os.File)
	if !ok || !isatty.IsTerminal(f.Fd()) {
		return func() {}
	}
	start, err := client.Stats(ctx)
	if err != nil {
		return func() {}
	}
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		t := time.NewTicker(250 * time.Millisecond)
		defer t.Stop()
		spin := `|/-\`
		for i := 0; ; i++ {
			select {
			case <-ctx.Done():
				fmt.Fprint(w, "\r\033[K")
				return
			case <-t.C:
			}
			now, err := client.Stats(ctx)
			if err != nil {
				continue
			}
			fmt.Fprintf(w, "\r\033[K%c fallback import: %s downloaded, %s written",
				spin[i%len(spin)], humanize.IBytes(uint64(now.BytesDownloaded-start.BytesDownloaded)),
				humanize.IBytes(uint64(now.BytesWritten-start.BytesWritten)))
		}
	}()
	return func() { cancel(); <-done }
}
