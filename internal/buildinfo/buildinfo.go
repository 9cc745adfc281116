// Package buildinfo says which cowdisk this is: module version, commit and
// the versions of what it links, read from the binary's own build info so
// nothing has to be stamped by hand at release time.
package buildinfo

import (
	"runtime"
	"runtime/debug"
)

// Info describes the running binary.
type Info struct {
	Version   string `json:"version"`    // module version, "(devel)" for a checkout build
	Commit    string `json:"commit"`     // VCS revision, "unknown" when not built from a checkout
	Modified  bool   `json:"modified"`   // built from a tree with uncommitted changes
	GoVersion string `json:"go_version"` // toolchain
	GoCeph    string `json:"go_ceph"`    // github.com/ceph/go-ceph module version
}

// commit is stamped by the Makefile (-ldflags -X), because Go's own VCS
// stamping is often off (GOFLAGS=-buildvcs=false) or impossible (a source
// tarball); the binary's VCS settings are used when it is empty.
var commit string

// Read returns the binary's build info.
func Read() Info {
	i := Info{Version: "(devel)", Commit: "unknown", GoVersion: runtime.Version(), GoCeph: "unknown"}
	if commit != "" {
		i.Commit = commit
	}
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return i
	}
	if v := bi.Main.Version; v != "" {
		i.Version = v
	}
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			if commit == "" {
				i.Commit = s.Value
			}
		case "vcs.modified":
			i.Modified = s.Value == "true"
		}
	}
	for _, d := range bi.Deps {
		if d.Path == "github.com/ceph/go-ceph" {
			i.GoCeph = d.Version
		}
	}
	return i
}

// Short is the one-line form used by --version and in logs.
func (i Info) Short() string {
	c := i.Commit
	if len(c) > 12 {
		c = c[:12]
	}
	if i.Modified {
		c += "-dirty"
	}
	return i.Version + " (" + c + ")"
}
