package api

import (
	"context"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gophercloud/gophercloud/v2/openstack/image/v2/images"

	"github.com/cowdisk/cowdisk/internal/imageformat/imagetest"
)

// TestUploadFormats uploads real images made by qemu-img: each is accepted
// only under its own disk_format, with the virtual size recorded, and
// unsafe ones are refused with nothing stored.
func TestUploadFormats(t *testing.T) {
	e := newEnv(t, nil)
	dir := t.TempDir()
	src := filepath.Join(dir, "src.raw")
	imagetest.WriteSource(t, src, 3<<20, 40, 1)
	qcow := filepath.Join(dir, "disk.qcow2")
	imagetest.Run(t, "convert", "-f", "raw", "-O", "qcow2", src, qcow)
	backed := filepath.Join(dir, "backed.qcow2")
	imagetest.Run(t, "create", "-f", "qcow2", "-F", "raw", "-b", "/etc/hostname", backed, "3M")
	vmdk := filepath.Join(dir, "disk.vmdk")
	imagetest.Run(t, "convert", "-f", "raw", "-O", "vmdk", src, vmdk)
	for _, tc := range []struct {
		file, format string
		code         int
		msg          string
	}{
		{qcow, "qcow2", http.StatusNoContent, ""},
		{vmdk, "vmdk", http.StatusNoContent, ""},
		{src, "raw", http.StatusNoContent, ""},
		{qcow, "raw", http.StatusBadRequest, "format mismatch"},
		{vmdk, "qcow2", http.StatusBadRequest, "format mismatch"},
		{backed, "qcow2", http.StatusBadRequest, "unsafe"},
	} {
		t.Run(filepath.Base(tc.file)+" as "+tc.format, func(t *testing.T) {
			id := e.mkImage(t, tokAlice, images.CreateOpts{DiskFormat: tc.format, ContainerFormat: "bare"})
			f, err := os.Open(tc.file)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			before := len(e.storedFiles(t))
			code, body, _ := e.do(t, "PUT", "/v2/images/"+id+"/file", tokAlice, "application/octet-stream", f)
			if code != tc.code || !strings.Contains(body, tc.msg) {
				t.Fatalf("%d %s", code, body)
			}
			img, err := e.cat.Get(context.Background(), id)
			if err != nil {
				t.Fatal(err)
			}
			if tc.code != http.StatusNoContent {
				if img.Status != "queued" || len(e.storedFiles(t)) != before {
					t.Fatalf("refused upload left %s image, files %v", img.Status, e.storedFiles(t))
				}
				return
			}
			if img.Status != "active" || img.VirtualSize == nil || *img.VirtualSize != 3<<20 {
				t.Fatalf("accepted upload: status %s virtual size %v", img.Status, img.VirtualSize)
			}
		})
	}
}
