package provisioner

import (
	"bytes"
	"context"
	"crypto/md5"
	"encoding/hex"
	"errors"
	"path/filepath"
	"testing"

	"github.com/cowdisk/cowdisk/internal/errs"
	"github.com/cowdisk/cowdisk/internal/provisioner/provtest"
)

func md5Image(id, format string, data []byte) Image {
	sum := md5.Sum(data)
	return Image{ID: id, DiskFormat: format, Checksum: hex.EncodeToString(sum[:])}
}

func TestLocalBackend(t *testing.T) {
	images := newFakeImages()
	rendered := map[string][]byte{}
	for _, format := range []string{"raw", "qcow2", "vmdk"} {
		img, raw := provtest.QemuImage(t, format, 12*mib)
		images.add(md5Image(localIDs[format], format, img), img)
		rendered[format] = raw
	}
	l, err := NewLocal(images, LocalConfig{Dir: t.TempDir()}, discard())
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for _, format := range []string{"raw", "qcow2", "vmdk"} {
		t.Run(format, func(t *testing.T) {
			want := rendered[format]
			inst := "inst-" + format
			d, err := l.Create(ctx, Request{InstanceID: inst, ImageID: localIDs[format], SizeBytes: 16 * mib})
			if err != nil {
				t.Fatal(err)
			}
			if d.SizeBytes != 16*mib || d.ImageID != localIDs[format] || d.Method != MethodBaseClone {
				t.Fatalf("disk %+v", d)
			}
			got := readOverlay(t, filepath.Join(d.Pool, d.Image))
			if !bytes.Equal(got[:len(want)], want) || !bytes.Equal(got[len(want):], make([]byte, len(got)-len(want))) {
				t.Fatal("disk content differs from qemu-img convert -O raw of the image")
			}
			if again, err := l.Create(ctx, Request{InstanceID: inst, ImageID: localIDs[format]}); err != nil || !again.Existed {
				t.Fatalf("repeat: %+v %v", again, err)
			}
		})
	}
	if _, err := l.Create(ctx, Request{InstanceID: "small", ImageID: localIDs["raw"], SizeBytes: mib}); !errors.Is(err, errs.ErrTooSmall) {
		t.Fatalf("small: %v", err)
	}
	if d, err := l.Resize(ctx, "inst-raw", "disk", 20*mib); err != nil || d.SizeBytes != 20*mib {
		t.Fatalf("resize: %+v %v", d, err)
	}
	if d, err := l.Flatten(ctx, "inst-raw", "disk"); err != nil || d.Parent != "" {
		t.Fatalf("flatten: %+v %v", d, err)
	}
	if pruned, err := l.Prune(ctx); err != nil || len(pruned) != 1 {
		t.Fatalf("prune: %v %v (want only the raw base, now unused)", pruned, err)
	}
	if err := l.DeleteInstance(ctx, "inst-qcow2"); err != nil {
		t.Fatal(err)
	}
	if list, err := l.List(ctx, ""); err != nil || len(list) != 2 {
		t.Fatalf("list after delete: %+v %v", list, err)
	}
	if images.downloads != 3 {
		t.Fatalf("%d downloads, want one per image", images.downloads)
	}
}

// readOverlay renders a qcow2 overlay (with its backing file) as raw.
func readOverlay(t *testing.T, path string) []byte {
	t.Helper()
	out := filepath.Join(t.TempDir(), "out.raw")
	provtest.Run(t, "qemu-img", "convert", "-q", "-O", "raw", path, out)
	return provtest.Read(t, out)
}

// localIDs are the image ids of TestLocalBackend's images, one per format.
var localIDs = map[string]string{
	"raw":   "10ca1000-0000-4000-8000-000000000001",
	"qcow2": "10ca1000-0000-4000-8000-000000000002",
	"vmdk":  "10ca1000-0000-4000-8000-000000000003",
}
