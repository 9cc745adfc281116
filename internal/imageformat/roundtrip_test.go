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

// TestRefusesRealQED: qemu-img's own qed is refused. (qemu-img's luks is
// not made here: its key-derivation benchmark takes seconds and sometimes
// fails outright under load; the luks parser is covered by the corpus.)
func TestRefusesRealQED(t *testing.T) {
	qed := filepath.Join(t.TempDir(), "q.qed")
	imagetest.Run(t, "create", "-f", "qed", qed, "1M")
	info, err := inspectBoth(t, qed, Limits{})
	if err == nil || info.Format != QED || info.Reason != "qed images are not accepted" {
		t.Fatalf("qed: %+v %v", info, err)
	}
}
