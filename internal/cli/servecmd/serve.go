// Package servecmd holds the long-running servers: the image service and the node agent.
package servecmd

import "github.com/spf13/cobra"

// Command is `cowdisk serve`; each server adds itself below it.
func Command() *cobra.Command {
	c := &cobra.Command{Use: "serve", Short: "Run a cowdisk server (images, node)"}
	c.AddCommand(serverCommands()...)
	return c
}

// serverCommands lists the servers; each lives in its own file.
func serverCommands() []*cobra.Command {
	var cmds []*cobra.Command
	for _, f := range servers {
		cmds = append(cmds, f())
	}
	return cmds
}

// servers is filled by each server's file (images.go, node.go) in init, so
// adding a server touches only its own file.
var servers []func() *cobra.Command
