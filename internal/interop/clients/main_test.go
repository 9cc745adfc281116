//go:build interop

package clients

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// python is the interpreter that sees Debian's OpenStack packages; the
// python3 on PATH may be another one (a pyenv shim was seen).
const python = "/usr/bin/python3"

// externals are the programs these tests drive. A missing one fails the
// run: an interop suite that skips its peers proves nothing.
var externals = []string{python, "/usr/bin/glance", "/usr/bin/openstack"}

// cowdiskBin is the binary under test: $COWDISK_BIN, or bin/cowdisk of this
// tree (make test-interop builds it first).
var cowdiskBin string

func TestMain(m *testing.M) {
	if err := findPrograms(); err != nil {
		fmt.Fprintln(os.Stderr, "interop/clients:", err)
		os.Exit(1)
	}
	code := m.Run()
	stopServices()
	os.Exit(code)
}

func findPrograms() error {
	for _, p := range externals {
		if _, err := exec.LookPath(p); err != nil {
			return fmt.Errorf("%s is missing (run scripts/install-test-deps): %w", p, err)
		}
	}
	cowdiskBin = os.Getenv("COWDISK_BIN")
	if cowdiskBin == "" {
		abs, err := filepath.Abs("../../../bin/cowdisk")
		if err != nil {
			return err
		}
		cowdiskBin = abs
	}
	if _, err := os.Stat(cowdiskBin); err != nil {
		return fmt.Errorf("cowdisk binary (run make build, or set COWDISK_BIN): %w", err)
	}
	return nil
}
