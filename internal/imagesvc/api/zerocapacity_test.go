package api

import (
	"bytes"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gophercloud/gophercloud/v2/openstack/image/v2/images"
)

// TestUploadRefusesZeroCapacity: an image no node could make a disk from
// (a vmdk of 0 bytes) is refused on upload, so an active image is bootable.
func TestUploadRefusesZeroCapacity(t *testing.T) {
	qemu, err := exec.LookPath("qemu-img")
	if err != nil {
		t.Fatalf("qemu-img is required: %v", err)
	}
	p := filepath.Join(t.TempDir(), "zero.vmdk")
	if out, err := exec.Command(qemu, "create", "-q", "-f", "vmdk", p, "0").CombinedOutput(); err != nil {
		t.Fatalf("qemu-img create: %v: %s", err, out)
	}
	data, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	e := newEnv(t, nil)
	id := e.mkImage(t, tokAlice, images.CreateOpts{DiskFormat: "vmdk", ContainerFormat: "bare"})
	code, body, _ := e.do(t, "PUT", "/v2/images/"+id+"/file", tokAlice, "application/octet-stream", bytes.NewReader(data))
	if code != http.StatusBadRequest || !strings.Contains(body, "virtual size of 0") {
		t.Fatalf("upload: %d %s; want 400 naming the 0-byte virtual size", code, body)
	}
	if f := e.storedFiles(t); len(f) != 0 {
		t.Fatalf("stored: %v", f)
	}
}
