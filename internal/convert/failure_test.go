package convert

import (
	"context"
	"encoding/binary"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/cowdisk/cowdisk/internal/errs"
	"github.com/cowdisk/cowdisk/internal/imageformat"
	"github.com/cowdisk/cowdisk/internal/imageformat/imagetest"
)

// TestToRawFailures: conversions that must fail, loudly, and leave no
// temporary file behind.
func TestToRawFailures(t *testing.T) {
	dir := t.TempDir()
	src := filepath.Join(dir, "src.raw")
	imagetest.WriteSource(t, src, 4<<20, 60, 3)
	qcow := imagetest.Make(t, dir, src, imagetest.Variant{Name: "q", Format: "qcow2"})
	vdi := imagetest.Make(t, dir, src, imagetest.Variant{Name: "v", Format: "vdi"})
	luks := filepath.Join(dir, "l.luks")
	writeFile(t, luks, luksV1(1<<20))
	truncated := filepath.Join(dir, "truncated.qcow2")
	writeFile(t, truncated, readFile(t, qcow)[:0x60000]) // L1 and L2 intact, data clusters cut
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()

	cases := []struct {
		name string
		path string
		info func(imageformat.Info) imageformat.Info
		ctx  context.Context
		o    Options
		want error
	}{
		// A corrupt or truncated image is the image's fault: refused (422
		// at the agent), never an internal error (500).
		{"qcow2 cut after its tables", truncated, nil, nil, Options{}, errs.ErrUnsafeImage},
		{"cancelled qcow2", qcow, nil, cancelled, Options{}, context.Canceled},
		{"cancelled qemu-img", vdi, nil, cancelled, Options{}, context.Canceled},
		{"qemu-img address space cap", vdi, nil, nil, Options{AddressSpaceBytes: 8 << 20}, nil},
		{"luks", luks, nil, nil, Options{}, errs.ErrInvalid},
		{"image changed since inspection", qcow, func(i imageformat.Info) imageformat.Info {
			i.Format = imageformat.VDI
			return i
		}, nil, Options{}, errs.ErrFormatMismatch},
		{"unsafe info", qcow, func(i imageformat.Info) imageformat.Info {
			i.Safe, i.Reason = false, "told so"
			return i
		}, nil, Options{}, errs.ErrUnsafeImage},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			info, err := imageformat.InspectFile(c.path, imageformat.Limits{})
			if err != nil {
				t.Fatal(err)
			}
			if c.info != nil {
				info = c.info(info)
			}
			if c.ctx == nil {
				c.ctx = context.Background()
			}
			c.o.TempDir = t.TempDir()
			_, err = ToRaw(c.ctx, c.path, info, &memWriterAt{}, c.o)
			if err == nil || (c.want != nil && !errors.Is(err, c.want)) {
				t.Fatalf("ToRaw = %v, want an error matching %v", err, c.want)
			}
			t.Log(err)
			if left, _ := os.ReadDir(c.o.TempDir); len(left) != 0 {
				t.Fatalf("temporary files left behind: %v", left)
			}
		})
	}
}

// luksV1 is the part of a LUKS v1 header the inspector reads (magic,
// version, payload offset) before payload bytes of data. It is generated
// because qemu-img's luks creation measures key-derivation time and fails
// now and then on a loaded machine ("Unable to get accurate CPU usage").
func luksV1(payload int) []byte {
	const headerSectors = 8
	b := make([]byte, headerSectors*512+payload)
	copy(b, "LUKS\xba\xbe")
	binary.BigEndian.PutUint16(b[6:], 1)
	binary.BigEndian.PutUint32(b[104:], headerSectors)
	return b
}

func writeFile(t *testing.T, path string, b []byte) {
	t.Helper()
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
}
