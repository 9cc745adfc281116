package imageformat

import (
	"errors"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cowdisk/cowdisk/internal/errs"
)

// TestZeroVirtualSizeRefused: images that describe a disk of 0 bytes pass
// no inspection (upload refuses what every node would refuse).
func TestZeroVirtualSizeRefused(t *testing.T) {
	qemu, err := exec.LookPath("qemu-img")
	if err != nil {
		t.Fatalf("qemu-img is required: %v", err)
	}
	dir := t.TempDir()
	for _, f := range []string{"vmdk", "qcow2", "vpc", "vdi", "vhdx"} {
		t.Run(f, func(t *testing.T) {
			p := filepath.Join(dir, "zero."+f)
			if out, err := exec.Command(qemu, "create", "-q", "-f", f, p, "0").CombinedOutput(); err != nil {
				t.Fatalf("qemu-img create: %v: %s", err, out)
			}
			info, err := InspectFile(p, Limits{})
			if !errors.Is(err, errs.ErrUnsafeImage) || !strings.Contains(info.Reason, "virtual size of 0") {
				t.Fatalf("inspect: %+v %v; want refused for its 0-byte virtual size", info, err)
			}
		})
	}
}
