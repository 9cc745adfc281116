package provisioner

import (
	"bytes"
	"context"
	"crypto/sha512"
	"encoding/hex"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/cowdisk/cowdisk/internal/errs"
	"github.com/cowdisk/cowdisk/internal/provisioner/provtest"
)

// foreign publishes an image of format that lives on another cluster, so
// the backend must download and convert it.
func (f rbdFixture) foreign(id, format string, data []byte) {
	sum := sha512.Sum512(data)
	f.images.add(Image{ID: id, DiskFormat: format, HashAlgo: "sha512", HashValue: hex.EncodeToString(sum[:]),
		Locations: []string{"rbd://fsid-other/images/" + id + "/snap"}}, data)
}

// readDisk returns the bytes a guest would see on pool/name.
func (f rbdFixture) readDisk(t *testing.T, pool, name string) []byte {
	t.Helper()
	r, err := f.c.OpenReader(context.Background(), pool, name, "")
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	b, err := io.ReadAll(io.NewSectionReader(r, 0, r.Size()))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// The conversion path (download, inspect, convert, write through
// OpenWriter, commit) runs on the fake: the disk holds what qemu-img says
// the image holds, and a conversion that fails leaves nothing.
func TestFakeConvertsQCOW2(t *testing.T) {
	qcow, raw := provtest.QemuImage(t, "qcow2", 4*mib)
	tests := []struct {
		name string
		data []byte
		want error
	}{
		{"whole image", qcow, nil},
		{"data clusters cut off", qcow[:len(qcow)/2], errs.ErrUnsafeImage},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newRBDFixture(t, func(c *RBDConfig) { c.TempDir = t.TempDir() })
			const id = "c0000000-0000-4000-8000-000000000001"
			f.foreign(id, "qcow2", tc.data)
			d, err := f.b.Create(context.Background(), Request{InstanceID: "i1", ImageID: id})
			if tc.want != nil {
				if !errors.Is(err, tc.want) {
					t.Fatalf("err %v, want %v", err, tc.want)
				}
				if left := f.c.names("vms"); len(left) != 0 {
					t.Fatalf("left behind %v", left)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := f.readDisk(t, "vms", d.Image); !bytes.Equal(got, raw) {
				t.Fatalf("disk %s differs from qemu-img's raw rendering (%d vs %d bytes)", d.Image, len(got), len(raw))
			}
			if f.b.Stats().Conversions.Load() != 1 {
				t.Fatalf("conversions %d, want 1", f.b.Stats().Conversions.Load())
			}
		})
	}
}

// probeSource reads the snapshot's bytes through OpenReader: on the
// fake, a qcow2 behind a raw label is refused before any clone is made.
func TestFakeCloneSourceInspected(t *testing.T) {
	qcow, _ := provtest.QemuImage(t, "qcow2", 4*mib)
	f := newRBDFixture(t, nil)
	f.b.probe = f.b.probeSource
	const id = "c0000000-0000-4000-8000-000000000002"
	f.cloneable(id, uint64(len(qcow)))
	f.c.images["images/"+id].data = qcow
	_, err := f.b.Create(context.Background(), Request{InstanceID: "i1", ImageID: id})
	if err == nil || !strings.Contains(err.Error(), "qcow2") {
		t.Fatalf("err %v, want a refusal naming qcow2", err)
	}
	for _, c := range f.c.calls {
		if strings.HasPrefix(c, "clone ") {
			t.Fatalf("cloned despite the refusal: %v", f.c.calls)
		}
	}
	if left := f.c.names("vms"); len(left) != 0 {
		t.Fatalf("left behind %v", left)
	}
}
