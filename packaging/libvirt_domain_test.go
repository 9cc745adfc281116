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
