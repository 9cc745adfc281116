package clierr

import (
	"context"
	"fmt"
	"time"

	"github.com/spf13/cobra"
)

// Long marks (in cobra's Annotations) a command that moves image data and
// so has no default time limit: upload, download, disk create, flatten.
const Long = "cowdisk.long"

// ServerWorks marks a command whose single call may rightly take long on
// the server (disk create converts images, flatten copies data): no
// "still waiting" notice for it.
const ServerWorks = "cowdisk.server-works"

// DefaultTimeout bounds the other calls. It is longer than the agent's own
// bounds (Ceph OSD operations time out after 30 s by default) so that the
// agent's reason for a 503 arrives rather than a bare client timeout.
const DefaultTimeout = 45 * time.Second

// noticeAfter is how long a call runs before the command says what it is
// waiting for.
var noticeAfter = 3 * time.Second

// Install wraps the RunE of every command under group: it adds --timeout,
// says on stderr what a slow call waits for, makes network errors friendly
// and, with --json, reports errors as JSON on stderr.
func Install(group *cobra.Command, asJSON *bool, svc Service) {
	// Errors are the caller's to print (the root prints text, --json
	// prints here); a failed call is not a usage mistake.
	group.SilenceUsage, group.SilenceErrors = true, true
	var timeout time.Duration
	group.PersistentFlags().DurationVar(&timeout, "timeout", 0,
		fmt.Sprintf("give up after this long (0: %s, no limit for commands that move image data)", DefaultTimeout))
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		if run := c.RunE; run != nil {
			c.RunE = func(cmd *cobra.Command, args []string) error {
				err := svc.Friendly(runBounded(cmd, args, run, timeout, *asJSON, svc))
				if err != nil && *asJSON {
					return WriteJSON(cmd.ErrOrStderr(), err)
				}
				return err
			}
		}
		for _, sub := range c.Commands() {
			walk(sub)
		}
	}
	walk(group)
}

func runBounded(cmd *cobra.Command, args []string, run func(*cobra.Command, []string) error,
	timeout time.Duration, quiet bool, svc Service) error {
	if err := svc.checkURL(); err != nil {
		return err
	}
	_, long := cmd.Annotations[Long]
	if timeout == 0 && !long {
		timeout = DefaultTimeout
	}
	ctx := cmd.Context()
	if ctx == nil {
		ctx = context.Background()
	}
	if timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, timeout)
		defer cancel()
	}
	if _, busy := cmd.Annotations[ServerWorks]; !quiet && !busy {
		var stop func()
		ctx, stop = notice(ctx, cmd.ErrOrStderr(), svc, timeout)
		defer stop()
	}
	cmd.SetContext(ctx)
	return run(cmd, args)
}
