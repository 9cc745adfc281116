package imageformat

import (
	"path/filepath"
	"testing"

	"github.com/cowdisk/cowdisk/internal/imageformat/imagetest"
)

// TestDetectsRealImages: every image qemu-img makes is detected as its
// format, safe, with the virtual size qemu-img reports.
func TestDetectsRealImages(t *testing.T) {
	dir := t.TempDir()
	src := filepath.Join(dir, "src.raw")
	imagetest.WriteSource(t, src, 3<<20+4096, 40, 1)
	want := map[string]Format{"raw": Raw, "qcow2": QCOW2, "vmdk": VMDK, "vpc": VHD, "vhdx": VHDX, "vdi": VDI}
	for _, v := range imagetest.Variants() {
		t.Run(v.Name, func(t *testing.T) {
			path := imagetest.Make(t, dir, src, v)
			info, err := inspectBoth(t, path, Limits{})
			if err != nil {
				t.Fatal(err)
			}
			q := imagetest.Inspect(t, path, v.Format)
			if info.Format != want[v.Format] || info.VirtualSize != q.VirtualSize || !info.Safe {
				t.Fatalf("got %+v, want format %s virtual size %d", info, want[v.Format], q.VirtualSize)
			}
		})
	}
}

// TestDetectsLUKSAndRefusesQED covers the formats qemu-img creates but
// cowdisk does not convert.
func TestDetectsLUKSAndRefusesQED(t *testing.T) {
	dir := t.TempDir()
	luks, qed := filepath.Join(dir, "l.luks"), filepath.Join(dir, "q.qed")
	imagetest.Run(t, "create", "-f", "luks", "--object", "secret,id=s0,data=k", "-o", "key-secret=s0,iter-time=10", luks, "1M")
	imagetest.Run(t, "create", "-f", "qed", qed, "1M")
	info, err := inspectBoth(t, luks, Limits{})
	if err != nil || info.Format != LUKS || info.VirtualSize != 1<<20 {
		t.Fatalf("luks: %+v %v", info, err)
	}
	info, err = inspectBoth(t, qed, Limits{})
	if err == nil || info.Format != QED {
		t.Fatalf("qed: %+v %v", info, err)
	}
}
