// Package provtest holds test helpers shared by the provisioner's unit tests
// and its tests against the dev cluster.
package provtest

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"libvirt.org/go/libvirtxml"
)

// QemuImage makes a size-byte disk image of format with qemu-img: data in
// two of every three MiB (so converters must get holes and offsets right).
// It returns the image file's bytes and their raw rendering by
// `qemu-img convert -O raw`, the reference a disk must equal.
func QemuImage(t testing.TB, format string, size int) (img, raw []byte) {
	t.Helper()
	dir := t.TempDir()
	src := filepath.Join(dir, "src.raw")
	data := make([]byte, size)
	for i := range data {
		if (i>>20)%3 != 1 {
			data[i] = byte(i*7 + i/4096)
		}
	}
	if err := os.WriteFile(src, data, 0o600); err != nil {
		t.Fatal(err)
	}
	out, back := filepath.Join(dir, "img."+format), filepath.Join(dir, "back.raw")
	Run(t, "qemu-img", "convert", "-q", "-f", "raw", "-O", format, src, out)
	Run(t, "qemu-img", "convert", "-q", "-f", format, "-O", "raw", out, back)
	return Read(t, out), Read(t, back)
}

// Run runs a command and fails t with its output when it fails.
func Run(t testing.TB, name string, args ...string) {
	t.Helper()
	if b, err := exec.Command(name, args...).CombinedOutput(); err != nil {
		t.Fatalf("%s %v: %v\n%s", name, args, err, b)
	}
}

// Read returns a file's bytes or fails t.
func Read(t testing.TB, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// ParseBack marshals a libvirt <disk> and parses the document again, as
// libvirt would read it, failing t on either error.
func ParseBack(t testing.TB, disk *libvirtxml.DomainDisk, err error) libvirtxml.DomainDisk {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
	doc, err := disk.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	var back libvirtxml.DomainDisk
	if err := back.Unmarshal(doc); err != nil {
		t.Fatalf("%v\n%s", err, doc)
	}
	return back
}
