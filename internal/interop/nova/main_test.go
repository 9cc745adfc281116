//go:build interop

package nova

import (
	"cmp"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/cowdisk/cowdisk/internal/testcluster"
)

// python is the interpreter that sees Debian's OpenStack packages; the
// python3 on PATH may be another one (a pyenv shim was seen).
const python = "/usr/bin/python3"

// externals are the programs these tests drive. A missing one fails the
// run: an interop suite that skips its peers proves nothing.
var externals = []string{python, "/usr/bin/glance-api", "/usr/bin/glance-manage", "rbd", "qemu-img"}

// cowdiskBin is the binary under test: $COWDISK_BIN, or bin/cowdisk of this
// tree (make test-interop builds it first).
var cowdiskBin string

func TestMain(m *testing.M) {
	if err := findPrograms(); err != nil {
		fmt.Fprintln(os.Stderr, "interop/nova:", err)
		os.Exit(1)
	}
	code := m.Run()
	if err := stopPeers(); err != nil {
		fmt.Fprintln(os.Stderr, "interop/nova: stopping the services:", err)
		code = max(code, 1)
	}
	os.Exit(code)
}

func findPrograms() error {
	if os.Getenv(testcluster.EnvConf) == "" {
		return fmt.Errorf("%s is unset: boot a dev cluster (make test-interop does) and source its env",
			testcluster.EnvConf)
	}
	for _, p := range externals {
		if _, err := exec.LookPath(p); err != nil {
			return fmt.Errorf("%s is missing (apt-get install python3-nova glance-api ceph-common qemu-utils): %w", p, err)
		}
	}
	if _, err := exec.Command(python, "-c", "import nova.virt.libvirt.imagebackend").CombinedOutput(); err != nil {
		return fmt.Errorf("%s cannot import Nova (apt-get install python3-nova): %w", python, err)
	}
	// make test-interop sets COWDISK_BIN; a bare go test uses the tree's.
	bin, err := filepath.Abs(cmp.Or(os.Getenv("COWDISK_BIN"), "../../../bin/cowdisk"))
	if err == nil {
		_, err = os.Stat(bin)
	}
	cowdiskBin = bin
	if err != nil {
		return fmt.Errorf("cowdisk binary (make build, or set COWDISK_BIN): %w", err)
	}
	return nil
}
