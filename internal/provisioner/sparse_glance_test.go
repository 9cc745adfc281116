package provisioner_test

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/cowdisk/cowdisk/internal/imageclient"
	"github.com/cowdisk/cowdisk/internal/ostest"
	"github.com/cowdisk/cowdisk/internal/provisioner"
	"github.com/cowdisk/cowdisk/internal/provisioner/provtest"
)

// On OpenStack's own Glance anyone who may edit an image can set a custom
// property named cowdisk_chunks_sha256. Glance has no chunk list endpoint:
// its 404 sends the node to the whole-stream download, which verifies
// os_hash_value as before, and the disk holds the image.
func TestSparseRealGlanceFallback(t *testing.T) {
	e := newClusterEnv(t)
	g := ostest.StartGlance(t, ostest.GlanceOptions{CephConf: e.c.Config().ConfPath, Pool: e.imagesPool})
	c, err := imageclient.New(g.URL, "", imageclient.Options{})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	qcow, want := provtest.QemuImage(t, "qcow2", 6*mib)
	img, err := c.Create(ctx, imageclient.CreateOptions{Name: "sparse-prop", DiskFormat: "qcow2", ContainerFormat: "bare",
		Properties: map[string]string{imageclient.ChunksProperty: strings.Repeat("ab", 32)}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := c.Delete(context.Background(), img.ID); err != nil {
			t.Errorf("delete image %s: %v", img.ID, err)
		}
	})
	if err := c.Upload(ctx, img.ID, bytes.NewReader(qcow), int64(len(qcow))); err != nil {
		t.Fatal(err)
	}
	if _, err := imageclient.AsChunkReader(c).Chunks(ctx, img.ID, 1<<20); err == nil || !strings.Contains(err.Error(), "404") {
		t.Fatalf("Glance's answer for the chunk list: %v; want a 404", err)
	}
	b := e.backend(t, provisioner.ClientSource{Client: c}, nil)
	d, err := b.Create(ctx, provisioner.Request{InstanceID: "sp-glance", ImageID: img.ID})
	if err != nil {
		t.Fatal(err)
	}
	if got := e.readDisk(t, d.Pool, d.Image); len(got) < len(want) || !bytes.Equal(got[:len(want)], want) {
		t.Fatal("disk differs from qemu-img convert -O raw of the image")
	}
}
