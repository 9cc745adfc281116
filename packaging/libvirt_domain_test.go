package packaging

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// domainXML is the smallest full domain libvirt's schema accepts around
// the agent's <disk>; %s is the domain type, %s the disk.
const domainXML = `<domain type='%s'>
  <name>cowdisk-libvirt</name>
  <memory unit='MiB'>64</memory>
  <os><type arch='x86_64'>hvm</type></os>
  <devices>
%s
  </devices>
</domain>
`

// validateDomain checks the agent's <disk> with libvirt's own tools:
// virt-xml-validate against the domain schema (and, so that a pass means
// something, refusing the same domain with an unknown protocol), then
// virsh defines it on the test driver and reads it back unchanged in what
// QEMU needs: source, monitors, user and secret.
func validateDomain(t *testing.T, dir, disk, secret string) {
	write := func(name, typ, disk string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(fmt.Sprintf(domainXML, typ, disk)), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	if out, err := run(t, "virt-xml-validate", write("kvm.xml", "kvm", disk), "domain"); err != nil {
		t.Errorf("virt-xml-validate refuses the agent's disk in a kvm domain: %v\n%s\n%s", err, out, disk)
	}
	broken := strings.Replace(disk, `protocol="rbd"`, `protocol="rbd-nonsense"`, 1)
	if broken == disk {
		t.Fatalf("the agent's disk has no protocol=\"rbd\":\n%s", disk)
	}
	if out, err := run(t, "virt-xml-validate", write("broken.xml", "kvm", broken), "domain"); err == nil {
		t.Errorf("virt-xml-validate accepts protocol rbd-nonsense, so its pass proves nothing:\n%s", out)
	}
	out, err := run(t, "virsh", "-c", "test:///default",
		"define "+write("test.xml", "test", disk)+"; dumpxml cowdisk-libvirt")
	if err != nil {
		t.Fatalf("virsh define on the test driver: %v\n%s", err, out)
	}
	for _, want := range []string{"<source protocol='rbd' name='vms/", "<host name='", "<auth username='libvirt'>",
		"<secret type='ceph' uuid='" + secret + "'/>", "<target dev='vda' bus='virtio'/>"} {
		if !strings.Contains(out, want) {
			t.Errorf("virsh dumpxml lacks %q:\n%s", want, out)
		}
	}
}

// sessionDomain is run as nobody: libvirt's per-user ("session") daemon,
// which virsh starts by itself, with its QEMU driver; everything it keeps
// is under $1, which is HOME and the XDG directories. The steps: the
// secret (UUID $2, value file $3), the domain ($4) started, QEMU's own
// qemu-io reading the image's data through the clone and writing one
// extent, then the domain destroyed and the daemon stopped.
const sessionDomain = `
export HOME=$1 XDG_RUNTIME_DIR=$1/run XDG_CONFIG_HOME=$1/config XDG_CACHE_HOME=$1/cache
export LIBVIRT_DEFAULT_URI=qemu:///session
mkdir -p "$XDG_RUNTIME_DIR" "$XDG_CONFIG_HOME" "$XDG_CACHE_HOME"
trap 'kill $(cat "$XDG_RUNTIME_DIR/libvirt/libvirtd.pid") 2>/dev/null || true' EXIT
cat > "$1/secret.xml" <<X
<secret ephemeral='no' private='no'><uuid>$2</uuid><usage type='ceph'><name>client.libvirt secret</name></usage></secret>
X
virsh secret-define --file "$1/secret.xml"
virsh secret-set-value --secret "$2" --file "$3"
virsh define "$4"
virsh start cowdisk-libvirt
qemu_io() { virsh qemu-monitor-command cowdisk-libvirt --hmp "qemu-io -d /machine/peripheral/virtio-disk0/virtio-backend \"$1\""; }
qemu_io 'read -P 0x5a 0 1M'
qemu_io 'write -P 0x99 3M 64k'
qemu_io 'flush'
virsh destroy cowdisk-libvirt
virsh undefine cowdisk-libvirt
`

// runDomain starts a QEMU domain on the agent's <disk> through libvirt,
// libvirt holding client.libvirt's key (value, base64) as secret: QEMU
// must reach the monitors the XML names and authenticate with what
// libvirt hands it. It returns QEMU's log (its command line and qemu-io's
// answers).
func runDomain(t *testing.T, disk, secret, value string) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "cowdisk-libvirt-session-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.RemoveAll(dir) })
	files := map[string]string{"key": value, "domain.xml": fmt.Sprintf(domainXML, "qemu", disk), "session.sh": sessionDomain}
	for name, text := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	// The session daemon runs as nobody (root's would be the system one).
	if out, err := run(t, "chown", "-R", "nobody:nogroup", dir); err != nil {
		t.Fatalf("chown: %v %s", err, out)
	}
	out, err := run(t, "setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups", "--",
		"sh", "-eu", filepath.Join(dir, "session.sh"), dir, secret, filepath.Join(dir, "key"), filepath.Join(dir, "domain.xml"))
	log, _ := os.ReadFile(filepath.Join(dir, "cache/libvirt/qemu/log/cowdisk-libvirt.log"))
	if err != nil {
		t.Fatalf("the domain as nobody: %v\n%s\nQEMU's log:\n%s", err, out, log)
	}
	t.Logf("libvirt as nobody:\n%s", out)
	return string(log)
}
