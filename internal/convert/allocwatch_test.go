package convert

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cowdisk/cowdisk/internal/errs"
	"github.com/cowdisk/cowdisk/internal/imageformat"
	"github.com/cowdisk/cowdisk/internal/imageformat/imagetest"
)

// A compressed vmdk that expands to 96 MiB of data is stopped while
// qemu-img writes its local output, once that passes MaxAllocated; the
// temporary output is removed.
func TestQemuImgExpansionBounded(t *testing.T) {
	dir := t.TempDir()
	src := filepath.Join(dir, "bomb.raw")
	writeFile(t, src, []byte(strings.Repeat("\x5a", 96<<20)))
	vmdk := imagetest.Make(t, dir, src, imagetest.Variant{Name: "bomb", Format: "vmdk", Options: []string{"-o", "subformat=streamOptimized"}})
	info, err := imageformat.InspectFile(vmdk, imageformat.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	tmp := t.TempDir()
	_, err = ToRaw(context.Background(), vmdk, info, &memWriterAt{}, Options{TempDir: tmp, MaxAllocated: 8 << 20})
	if !errors.Is(err, errs.ErrRefused) || !strings.Contains(err.Error(), "max-expansion") {
		t.Fatalf("ToRaw = %v; want refused over the allocation limit", err)
	}
	if left, _ := os.ReadDir(tmp); len(left) != 0 {
		t.Fatalf("temporary files left behind: %v", left)
	}
	st, _ := os.Stat(vmdk)
	t.Logf("vmdk of %d bytes for 96 MiB of data: %v", st.Size(), err)
}
