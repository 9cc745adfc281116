// Package versioncmd is `cowdisk version`.
package versioncmd

import (
	"encoding/json"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/cowdisk/cowdisk/internal/buildinfo"
	"github.com/cowdisk/cowdisk/internal/ceph"
)

// Command is `cowdisk version`.
func Command() *cobra.Command {
	var asJSON bool
	c := &cobra.Command{
		Use:     "version",
		Short:   "Print cowdisk's version, commit, and the go-ceph and librbd it runs with",
		Example: "  cowdisk version\n  cowdisk version --json",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			v := struct {
				buildinfo.Info
				Librados string `json:"librados"`
				Librbd   string `json:"librbd"`
			}{Info: buildinfo.Read()}
			v.Librados, v.Librbd = ceph.LibVersions()
			out := cmd.OutOrStdout()
			if asJSON {
				e := json.NewEncoder(out)
				e.SetIndent("", "  ")
				return e.Encode(v)
			}
			fmt.Fprintf(out, "cowdisk %s\ncommit   %s\ngo       %s\ngo-ceph  %s\nlibrados %s\nlibrbd   %s\n",
				v.Version, v.Commit+map[bool]string{true: " (modified)"}[v.Modified], v.GoVersion, v.GoCeph, v.Librados, v.Librbd)
			return nil
		},
	}
	c.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return c
}
