package clierr_test

import (
	"testing"

	"github.com/spf13/cobra"

	"github.com/cowdisk/cowdisk/internal/cli/cachecmd"
	"github.com/cowdisk/cowdisk/internal/cli/diskcmd"
	"github.com/cowdisk/cowdisk/internal/cli/imagecmd"
)

// Every client command's --help shows examples.
func TestEveryCommandHasExamples(t *testing.T) {
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		if c.Example == "" {
			t.Errorf("%q has no Example", c.CommandPath())
		}
		for _, sub := range c.Commands() {
			walk(sub)
		}
	}
	for _, g := range []*cobra.Command{imagecmd.Command(), diskcmd.Command(), cachecmd.Command()} {
		walk(g)
	}
}
