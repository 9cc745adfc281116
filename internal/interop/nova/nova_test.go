//go:build interop

package nova

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"os/exec"
	"slices"
	"testing"
	"time"

	"github.com/cowdisk/cowdisk/internal/ceph"
	"github.com/cowdisk/cowdisk/internal/rbdloc"
)

// novaRunIn bounds one run of Nova's code (a fetch and convert included).
const novaRunIn = 3 * time.Minute

// novaArgs are the settings testdata/novaenv.py gives Nova.
type novaArgs struct {
	ImageURL      string `json:"image_url"`
	Token         string `json:"token"`
	Pool          string `json:"pool"`
	CephConf      string `json:"ceph_conf"`
	RBDUser       string `json:"rbd_user"`
	InstancesPath string `json:"instances_path"`
	ImageID       string `json:"image_id"`
	InstanceUUID  string `json:"instance_uuid,omitempty"`
	RootGB        int    `json:"root_gb,omitempty"`
}

// novaArgsFor reads imageID from cowdisk's image service with the service
// token and puts disks in the vms pool, as a compute node would.
func (p *peers) novaArgsFor(t *testing.T, imageID string) novaArgs {
	cfg := p.c.Config()
	return novaArgs{ImageURL: p.images.url, Token: serviceToken, Pool: p.vmsPool, CephConf: cfg.ConfPath,
		RBDUser: cfg.User, InstancesPath: t.TempDir(), ImageID: imageID}
}

// runNova runs testdata/<script> with args and decodes the JSON line it
// prints into out.
func runNova(t *testing.T, script string, args novaArgs, out any) {
	t.Helper()
	stdout, stderr, err := execNova(t, script, args)
	if err != nil {
		t.Fatalf("nova %s: %v\n%s", script, err, tailOf(stderr))
	}
	if err := json.Unmarshal(stdout, out); err != nil {
		t.Fatalf("nova %s printed %q: %v\n%s", script, stdout, err, tailOf(stderr))
	}
}

// execNova runs testdata/<script> with args as its one argument. HOME is
// a temp dir so nothing is read from ~.
func execNova(t *testing.T, script string, args novaArgs) (stdout, stderr []byte, err error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), novaRunIn)
	defer cancel()
	a, _ := json.Marshal(args)
	cmd := exec.CommandContext(ctx, python, script, string(a))
	cmd.Dir = "testdata"
	cmd.Env = append(cmd.Environ(), "HOME="+t.TempDir())
	var o, e bytes.Buffer
	cmd.Stdout, cmd.Stderr = &o, &e
	err = cmd.Run()
	return o.Bytes(), e.Bytes(), err
}

func tailOf(b []byte) []byte {
	if len(b) > 4000 {
		b = b[len(b)-4000:]
	}
	return b
}

func newUUID(t *testing.T) string {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		t.Fatal(err)
	}
	b[6], b[8] = b[6]&0x0f|0x40, b[8]&0x3f|0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[:4], b[4:6], b[6:8], b[8:10], b[10:])
}

// novaDisk is what testdata/nova_disk.py prints.
type novaDisk struct {
	Created bool   `json:"created"`
	Name    string `json:"name"`
	Pool    string `json:"pool"`
	Size    uint64 `json:"size"`
}

// makeNovaDisk makes instance's root disk of 1 GiB from imageID with
// Nova's driver code and removes it when the test ends.
func (p *peers) makeNovaDisk(t *testing.T, imageID string) ceph.ImageInfo {
	t.Helper()
	args := p.novaArgsFor(t, imageID)
	args.InstanceUUID, args.RootGB = newUUID(t), 1
	var d novaDisk
	t.Cleanup(func() {
		if err := p.c.CleanupInstance(context.Background(), p.vmsPool, args.InstanceUUID); err != nil {
			t.Errorf("remove Nova's disk: %v", err)
		}
	})
	runNova(t, "nova_disk.py", args, &d)
	if !d.Created || d.Name != args.InstanceUUID+"_disk" || d.Pool != p.vmsPool || d.Size != 1<<30 {
		t.Fatalf("nova made %+v; want a new 1 GiB %s/%s_disk", d, p.vmsPool, args.InstanceUUID)
	}
	info, err := p.c.Stat(t.Context(), d.Pool, d.Name)
	if err != nil {
		t.Fatal(err)
	}
	return info
}

// checkContent asserts the disk starts with the image's raw bytes and
// reads zeros after them.
func (p *peers) checkContent(t *testing.T, info ceph.ImageInfo, raw []byte) {
	t.Helper()
	r, err := p.c.OpenReader(t.Context(), info.Pool, info.Name, "")
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	got := make([]byte, len(raw)+1<<20)
	if _, err := r.ReadAt(got, 0); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got[:len(raw)], raw) || !bytes.Equal(got[len(raw):], make([]byte, 1<<20)) {
		t.Fatalf("%s/%s does not hold the image's data followed by zeros", info.Pool, info.Name)
	}
}

// TestNovaGetSeesFormatAndLocations: nova.image.glance.API().get with
// include_locations, as Rbd.clone calls it, sees the disk format and the
// rbd:// location of an image in cowdisk's service. glanceclient builds
// its model from GET /v2/schemas/image, so this needs Glance's schemas.
func TestNovaGetSeesFormatAndLocations(t *testing.T) {
	p := setup(t)
	raw, _ := images(t)
	id := p.cowdiskImages.upload(t, "nova-get", "raw", raw)
	var got struct {
		ID, Status string
		DiskFormat string `json:"disk_format"`
		Size       int64
		Locations  []struct{ URL string }
	}
	runNova(t, "nova_get.py", p.novaArgsFor(t, id), &got)
	want := rbdloc.Location{FSID: p.c.FSID(), Pool: p.imagesPool, Image: id, Snapshot: "snap"}.String()
	urls := make([]string, 0, len(got.Locations))
	for _, l := range got.Locations {
		urls = append(urls, l.URL)
	}
	if got.ID != id || got.Status != "active" || got.DiskFormat != "raw" || got.Size != rawSize ||
		!slices.Contains(urls, want) {
		t.Fatalf("Nova sees %+v; want id %s, active, raw, size %d, a location %s", got, id, rawSize, want)
	}
}

// TestNovaRbdClonesCowdiskImage: Nova's imagebackend.Rbd clones a raw
// image of cowdisk's service: the disk's parent is <pool>/<id>@snap, it
// has the cluster's default features (Nova clones with
// rbd_default_features) and it reads the image's bytes.
func TestNovaRbdClonesCowdiskImage(t *testing.T) {
	p := setup(t)
	raw, _ := images(t)
	id := p.cowdiskImages.upload(t, "nova-clone", "raw", raw)
	info := p.makeNovaDisk(t, id)
	want := ceph.SnapRef{Pool: p.imagesPool, Image: id, Snap: "snap"}
	if info.Parent == nil || *info.Parent != want {
		t.Fatalf("Nova's disk %s/%s has parent %v; want a clone of %s (it was downloaded instead)",
			info.Pool, info.Name, info.Parent, want)
	}
	p.checkDefaultFeatures(t, info)
	p.checkContent(t, info, raw)
}

// TestNovaFetchToRawQcow2: a qcow2 image cannot be cloned, so Nova falls
// back to images.fetch_to_raw (download, qemu-img convert) and `rbd
// import`; the disk is a whole image holding the raw bytes.
func TestNovaFetchToRawQcow2(t *testing.T) {
	p := setup(t)
	raw, qcow2 := images(t)
	id := p.cowdiskImages.upload(t, "nova-fetch", "qcow2", qcow2)
	info := p.makeNovaDisk(t, id)
	if info.Parent != nil {
		t.Fatalf("Nova's disk from a qcow2 image is a clone of %v", info.Parent)
	}
	p.checkDefaultFeatures(t, info)
	p.checkContent(t, info, raw)
}

func (p *peers) checkDefaultFeatures(t *testing.T, info ceph.ImageInfo) {
	t.Helper()
	def, err := p.c.DefaultFeatures()
	if err != nil {
		t.Fatal(err)
	}
	if got := info.Features &^ ceph.FeatureOperations; got != def {
		t.Fatalf("%s/%s has features %s; want rbd_default_features %s", info.Pool, info.Name,
			ceph.FeatureString(info.Features), ceph.FeatureString(def))
	}
}

// TestNovaUnknownImageLeavesNothing: asked for a disk of an image the
// service does not have, Nova's driver code stops with ImageNotFound (a
// 404 from cowdisk, not a fallback download) and nothing is left in the
// pools (setup checks them at the end).
func TestNovaUnknownImageLeavesNothing(t *testing.T) {
	p := setup(t)
	args := p.novaArgsFor(t, newUUID(t))
	args.InstanceUUID, args.RootGB = newUUID(t), 1
	_, stderr, err := execNova(t, "nova_disk.py", args)
	if err == nil || !bytes.Contains(stderr, []byte("ImageNotFound")) {
		t.Fatalf("nova_disk.py for an unknown image: %v; want ImageNotFound\n%s", err, tailOf(stderr))
	}
}
