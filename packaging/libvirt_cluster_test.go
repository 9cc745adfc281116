package packaging

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"libvirt.org/go/libvirtxml"

	"github.com/cowdisk/cowdisk/internal/ceph"
	"github.com/cowdisk/cowdisk/internal/devcluster"
	"github.com/cowdisk/cowdisk/internal/provisioner"
	"github.com/cowdisk/cowdisk/internal/testcluster"
)

// hypervisor is what QEMU has on a hypervisor: the client.libvirt keyring
// and the agent's <disk> XML for one disk.
type hypervisor struct {
	conf, keyring string
	disk          libvirtxml.DomainDisk
	xml           string // the agent's answer, as libvirt gets it
}

// TestLibvirtUserAsDocumented follows sections 3 and 4 of the operations
// guide for the hypervisor: client.libvirt is created by the guide's own
// command and its key stored in libvirt by the guide's own steps; the node
// agent hands out <disk> XML naming that user and secret. Then, as
// client.libvirt, QEMU opens the agent's clone read-write at the address
// the XML gives, librbd reads the parent snapshot, every write to the images
// pool is refused, libvirt's own tools accept the XML in a domain, and a
// domain libvirt starts on it reads and writes the disk with libvirt's secret.
func TestLibvirtUserAsDocumented(t *testing.T) {
	for prog, pkg := range map[string]string{"qemu-io": "qemu-utils", "qemu-img": "qemu-utils", "rbd": "ceph-common",
		"libvirtd": "libvirt-daemon", "virsh": "libvirt-clients", "virt-xml-validate": "libvirt-clients",
		"unshare": "util-linux", "setpriv": "util-linux", "qemu-system-x86_64": "qemu-system-x86"} {
		need(t, prog, pkg)
	}
	bin := binary(t)
	dc, keyrings := bootCluster(t, nil)
	dir := t.TempDir()
	admin := cleanEnv("CEPH_CONF="+dc.ConfPath, "CEPH_ARGS=--keyring "+dc.KeyringPath+" --connect-timeout 15")

	hv, secret, value := documentedLibvirtUser(t, dc, dir, admin)
	images, node := startBoth(t, bin, map[string]string{"images": dc.ConfPath, "node": dc.ConfPath}, keyrings, false,
		"COWDISK_NODE_RBD_USER=libvirt", "COWDISK_NODE_SECRET_UUID="+secret)
	waitHealth(t, images, "/readyz", "ready", ready)
	waitHealth(t, node, "/readyz", "ready", ready)
	data := bytes.Repeat([]byte{0x5a}, 4<<20)
	clear(data[1<<20:]) // 1 MiB of 0x5a, then zeros
	imageID, inst := hv.clone(t, images, node, data)
	checkDiskAuth(t, hv.disk, secret)
	vmsImage := strings.TrimPrefix(hv.disk.Source.Network.Name, "vms/")

	t.Run("qemu opens the clone read-write", func(t *testing.T) { hv.readWriteClone(t) })
	t.Run("librbd reads the parent snapshot", func(t *testing.T) { hv.readParent(t, vmsImage, data) })
	c := adminConn(t, dc)
	t.Run("the images pool refuses every write", func(t *testing.T) { hv.refusedWrites(t, c, imageID) })
	t.Run("libvirt validates the domain", func(t *testing.T) { validateDomain(t, dir, hv.xml, secret) })
	t.Run("a libvirt domain runs on the disk", func(t *testing.T) { hv.domain(t, secret, value) })

	call(t, "DELETE", node.base+"/v1/instances/"+inst+"/disks", nil, http.StatusNoContent, nil)
	call(t, "DELETE", images.base+"/v2/images/"+imageID, nil, http.StatusNoContent, nil)
	testcluster.AssertPoolClean(t, c, "vms")
	testcluster.AssertPoolClean(t, c, "images")
}

// documentedLibvirtUser creates client.libvirt with the guide's command
// (its keyring in dir, not /etc/ceph) and stores its key in libvirt with
// the guide's steps; it returns the hypervisor's side, the secret's UUID
// and the key libvirt holds.
func documentedLibvirtUser(t *testing.T, dc *devcluster.Cluster, dir string, admin []string) (*hypervisor, string, string) {
	t.Helper()
	create := docCommand(t, "3. Ceph users and caps", "ceph auth get-or-create client.libvirt")
	runShell(t, strings.ReplaceAll(create, "/etc/ceph/", dir+"/"), admin)
	secret, value := defineSecretAsDocumented(t, dir, admin)
	if key := strings.TrimSpace(runShell(t, "ceph auth get-key client.libvirt", admin)); value != key {
		t.Fatalf("libvirt holds %q for secret %s, ceph's key of client.libvirt is %q", value, secret, key)
	}
	return &hypervisor{conf: dc.ConfPath, keyring: filepath.Join(dir, "ceph.client.libvirt.keyring")}, secret, value
}

// clone uploads data as a raw image, has the agent make a disk of it (by
// clone) and keeps the agent's <disk> XML for it.
func (hv *hypervisor) clone(t *testing.T, images, node *server, data []byte) (imageID, inst string) {
	t.Helper()
	var img struct{ ID string }
	call(t, "POST", images.base+"/v2/images", map[string]any{"name": "libvirt", "disk_format": "raw",
		"container_format": "bare"}, http.StatusCreated, &img)
	call(t, "PUT", images.base+"/v2/images/"+img.ID+"/file", data, http.StatusNoContent, nil)
	inst = uuid.NewString()
	var d struct{ Name, Method string }
	call(t, "POST", node.base+"/v1/disks", map[string]any{"instance_id": inst, "image_id": img.ID},
		http.StatusCreated, &d)
	if d.Method != "clone" {
		t.Fatalf("disk %+v, want a clone", d)
	}
	hv.xml = getText(t, node.base+"/v1/disks/"+inst+"/"+d.Name+"/libvirt")
	if err := hv.disk.Unmarshal(hv.xml); err != nil {
		t.Fatalf("the agent's <disk>: %v\n%s", err, hv.xml)
	}
	return img.ID, inst
}

func checkDiskAuth(t *testing.T, disk libvirtxml.DomainDisk, secret string) {
	t.Helper()
	src := disk.Source
	if src == nil || src.Network == nil || src.Network.Protocol != "rbd" ||
		!strings.HasPrefix(src.Network.Name, "vms/") || len(src.Network.Hosts) == 0 {
		t.Fatalf("the agent's <disk> is not an rbd disk in vms with monitors: %+v", src)
	}
	a := src.Network.Auth
	if a == nil || a.Username != "libvirt" || a.Secret == nil || a.Secret.Type != "ceph" || a.Secret.UUID != secret {
		t.Fatalf("the agent's <auth> is %+v, want user libvirt and ceph secret %s", a, secret)
	}
}

// qemuPath is the disk as QEMU opens it from the XML: the source name, the
// <auth> user and the <host> monitors, with the user's keyring (libvirt
// passes the secret's value instead).
func (hv *hypervisor) qemuPath(name string) string {
	var mons []string
	for _, h := range hv.disk.Source.Network.Hosts {
		mons = append(mons, h.Name+":"+h.Port)
	}
	pool, image, _ := strings.Cut(name, "/")
	return provisioner.QemuRBDPath(pool, image, hv.disk.Source.Network.Auth.Username, mons) +
		":keyring=" + hv.keyring + ":conf=/dev/null"
}

// readWriteClone: the clone's first MiB is the image's (read through to
// the parent); a write lands and reads back.
func (hv *hypervisor) readWriteClone(t *testing.T) {
	out, err := run(t, "qemu-io", "-f", "raw", "-c", "read -P 0x5a 0 1M", "-c", "write -P 0xc3 2M 64k",
		"-c", "read -P 0xc3 2M 64k", hv.qemuPath(hv.disk.Source.Network.Name))
	if err != nil || strings.Contains(out, "failed") || strings.Count(out, "read 1048576/1048576") != 1 ||
		!strings.Contains(out, "wrote 65536/65536") {
		t.Fatalf("qemu-io as client.libvirt on the clone: %v\n%s", err, out)
	}
}

// readParent: the parent snapshot that rbd info names, exported as
// client.libvirt (a read-only open), is the uploaded image.
func (hv *hypervisor) readParent(t *testing.T, vmsImage string, want []byte) {
	auth := []string{"-c", hv.conf, "--id", "libvirt", "--keyring", hv.keyring}
	out, err := run(t, "rbd", append(auth, "info", "--format", "json", "vms/"+vmsImage)...)
	var info struct {
		Parent struct{ Pool, Image, Snapshot string }
	}
	if err != nil || json.Unmarshal([]byte(out), &info) != nil || info.Parent.Snapshot == "" {
		t.Fatalf("rbd info vms/%s as client.libvirt: %v\n%s", vmsImage, err, out)
	}
	snap := info.Parent.Pool + "/" + info.Parent.Image + "@" + info.Parent.Snapshot
	// As docs/operations.md says: QEMU alone cannot open it (its rbd driver
	// opens read-write, and the watch that registers is a write).
	if out, err := run(t, "qemu-img", "info", hv.qemuPath(snap)); err == nil || !strings.Contains(out, "Operation not permitted") {
		t.Errorf("qemu-img info %s as client.libvirt: %v, want EPERM (update docs/operations.md section 3)\n%s", snap, err, out)
	}
	cmd := exec.Command("rbd", append(auth, "export", snap, "-")...)
	var got, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &got, &stderr
	if err := cmd.Run(); err != nil || !bytes.Equal(got.Bytes(), want) {
		t.Fatalf("rbd export %s as client.libvirt: %v, %d bytes (want the %d uploaded)\n%s",
			snap, err, got.Len(), len(want), stderr.String())
	}
}

// domain: QEMU, started by libvirt on the agent's XML, reads the image's
// data through the clone and writes to it; QEMU's command line shows the
// user and a key-secret (libvirt's secret), and the write is there for
// client.libvirt outside.
func (hv *hypervisor) domain(t *testing.T, secret, value string) {
	log := runDomain(t, hv.xml, secret, value)
	for _, want := range []string{`"driver":"rbd"`, `"user":"libvirt"`, `"key-secret":`,
		"read 1048576/1048576 bytes at offset 0"} { // (QEMU logs no line for a write by qemu-io)
		if !strings.Contains(log, want) {
			t.Errorf("QEMU's log lacks %q", want)
		}
	}
	if strings.Contains(log, "verification failed") || t.Failed() {
		t.Fatalf("QEMU's log:\n%s", log)
	}
	out, err := run(t, "qemu-io", "-r", "-f", "raw", "-c", "read -P 0x99 3M 64k", hv.qemuPath(hv.disk.Source.Network.Name))
	if err != nil || strings.Contains(out, "failed") {
		t.Fatalf("the domain's write, read back as client.libvirt: %v\n%s", err, out)
	}
}

// refusedWrites: every way of writing the images pool fails with EPERM
// and leaves the pool as it was.
func (hv *hypervisor) refusedWrites(t *testing.T, c *ceph.Cluster, imageID string) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	before, err := c.ListSnapshots(ctx, "images", imageID)
	if err != nil || len(before) != 1 {
		t.Fatalf("snapshots of images/%s: %v %v, want the image service's one", imageID, before, err)
	}
	rbdAs := []string{"rbd", "-c", hv.conf, "--id", "libvirt", "--keyring", hv.keyring}
	for _, tc := range []struct {
		name string
		argv []string
	}{
		{"qemu writes the image", []string{"qemu-io", "-f", "raw", "-c", "write 0 4k", hv.qemuPath("images/" + imageID)}},
		{"qemu-img creates an image", []string{"qemu-img", "create", "-f", "raw", hv.qemuPath("images/libvirt-made"), "1M"}},
		{"rbd snap create", append(rbdAs, "snap", "create", "images/"+imageID+"@libvirt-made")},
		{"rbd snap unprotect", append(rbdAs, "snap", "unprotect", "images/"+imageID+"@"+before[0])},
		{"rbd rm", append(rbdAs, "rm", "images/"+imageID)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, err := run(t, tc.argv[0], tc.argv[1:]...)
			if err == nil || !strings.Contains(out, "Operation not permitted") {
				t.Errorf("%v as client.libvirt: %v, want EPERM\n%s", tc.argv, err, out)
			}
		})
	}
	testcluster.AssertPoolClean(t, c, "images", imageID)
	if after, err := c.ListSnapshots(ctx, "images", imageID); err != nil || !slices.Equal(after, before) {
		t.Errorf("snapshots of images/%s after the refused writes: %v %v, want %v", imageID, after, err, before)
	}
}

func adminConn(t *testing.T, dc *devcluster.Cluster) *ceph.Cluster {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c, err := ceph.Connect(ctx, ceph.Config{ConfPath: dc.ConfPath, User: "admin", Keyring: dc.KeyringPath})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// run runs a program with a 2 minute bound and returns its combined output.
func run(t *testing.T, prog string, args ...string) (string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, prog, args...).CombinedOutput()
	return string(out), err
}

func getText(t *testing.T, url string) string {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	if _, err := ioCopy(&b, resp); err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %d %v\n%s", url, resp.StatusCode, err, b.String())
	}
	return b.String()
}
