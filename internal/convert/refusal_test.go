package convert

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/cowdisk/cowdisk/internal/errs"
	"github.com/cowdisk/cowdisk/internal/imageformat"
	"github.com/cowdisk/cowdisk/internal/imageformat/imagetest"
)

// TestSentinelFilesAreNeverOpened: images made by qemu-img that name a FIFO
// as backing file, data file or extent. Opening a FIFO for reading blocks
// until a writer appears (none does), so if the inspector, ToRaw (even with a
// forged "safe" Info) or QCOW2ToRaw opened it, the test would hang and fail
// on its deadline instead of seeing the refusal.
func TestSentinelFilesAreNeverOpened(t *testing.T) {
	cases := []struct {
		name   string
		format imageformat.Format
		make   func(t *testing.T, dir, fifo string) string
	}{
		{"qcow2 backing file", imageformat.QCOW2, func(t *testing.T, dir, fifo string) string {
			img := filepath.Join(dir, "backed.qcow2")
			imagetest.Run(t, "create", "-f", "qcow2", "-u", "-b", fifo, "-F", "raw", img, "1M")
			return img
		}},
		{"qcow2 data file", imageformat.QCOW2, func(t *testing.T, dir, fifo string) string {
			img := filepath.Join(dir, "data.qcow2")
			imagetest.Run(t, "create", "-f", "qcow2", "-o", "data_file="+fifo+".tmp", img, "1M")
			mustRename(t, fifo, fifo+".tmp") // the data file becomes the FIFO
			return img
		}},
		{"vmdk flat extent", imageformat.VMDK, func(t *testing.T, dir, fifo string) string {
			img := filepath.Join(dir, "flat.vmdk")
			imagetest.Run(t, "create", "-f", "vmdk", "-o", "subformat=monolithicFlat", img, "1M")
			mustRename(t, fifo, filepath.Join(dir, "flat-flat.vmdk"))
			return img
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			fifo := filepath.Join(dir, "sentinel")
			if err := syscall.Mkfifo(fifo, 0o600); err != nil {
				t.Fatal(err)
			}
			img := c.make(t, dir, fifo)
			withDeadline(t, func() { assertAllRefuse(t, img, c.format) })
		})
	}
}

func assertAllRefuse(t *testing.T, img string, format imageformat.Format) {
	ctx := context.Background()
	if info, err := imageformat.InspectFile(img, imageformat.Limits{}); !errors.Is(err, errs.ErrUnsafeImage) {
		t.Errorf("inspect: %+v %v", info, err)
	}
	forged := imageformat.Info{Format: format, VirtualSize: 1 << 20, Safe: true}
	if _, err := ToRaw(ctx, img, forged, &memWriterAt{}, Options{TempDir: t.TempDir()}); !errors.Is(err, errs.ErrUnsafeImage) {
		t.Errorf("ToRaw with a forged Info: %v", err)
	}
	if format != imageformat.QCOW2 {
		return
	}
	f, err := os.Open(img)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := QCOW2ToRaw(ctx, f, &memWriterAt{}, Options{}); !errors.Is(err, errs.ErrUnsafeImage) {
		t.Errorf("QCOW2ToRaw: %v", err)
	}
}

// mustRename moves the FIFO at from to the name an image refers to.
func mustRename(t *testing.T, from, to string) {
	t.Helper()
	if err := os.Remove(to); err != nil { // the file qemu-img made under that name
		t.Fatal(err)
	}
	if err := os.Rename(from, to); err != nil {
		t.Fatal(err)
	}
}

func withDeadline(t *testing.T, fn func()) {
	t.Helper()
	done := make(chan struct{})
	go func() { defer close(done); fn() }()
	select {
	case <-done:
	case <-time.After(20 * time.Second):
		t.Fatal("blocked: something opened the sentinel FIFO")
	}
}
