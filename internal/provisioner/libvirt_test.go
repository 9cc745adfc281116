package provisioner

import (
	"context"
	"testing"

	"libvirt.org/go/libvirtxml"

	"github.com/cowdisk/cowdisk/internal/provisioner/provtest"
)

func TestAttachmentParsesBack(t *testing.T) {
	f := newRBDFixture(t, func(c *RBDConfig) { c.Auth = Auth{User: "cinder", SecretUUID: "457eb676-33da-42ec-9a8c-9293d545c337"} })
	f.cloneable("11111111-1111-4111-8111-111111111111", mib)
	ctx := context.Background()
	if _, err := f.b.Create(ctx, Request{InstanceID: "i1", ImageID: "11111111-1111-4111-8111-111111111111"}); err != nil {
		t.Fatal(err)
	}
	disk, err := f.b.Attachment(ctx, "i1", "disk", "vdb")
	back := provtest.ParseBack(t, disk, err)
	src := back.Source.Network
	if src == nil || src.Protocol != "rbd" || src.Name != "vms/i1_disk" || back.Target.Dev != "vdb" {
		t.Fatalf("parsed back %+v", back)
	}
	want := []libvirtxml.DomainDiskSourceHost{{Name: "127.0.0.1", Port: "6789"}, {Name: "::1", Port: "3300"}}
	if len(src.Hosts) != 2 || src.Hosts[0] != want[0] || src.Hosts[1] != want[1] {
		t.Fatalf("hosts %+v", src.Hosts)
	}
	if src.Auth == nil || src.Auth.Username != "cinder" || src.Auth.Secret.UUID != "457eb676-33da-42ec-9a8c-9293d545c337" || src.Auth.Secret.Type != "ceph" {
		t.Fatalf("auth %+v", src.Auth)
	}
	path, err := f.b.QemuPath(ctx, "i1", "disk")
	if want := `rbd:vms/i1_disk:id=cinder:mon_host=127.0.0.1\:6789;[\:\:1]\:3300`; err != nil || path != want {
		t.Fatalf("qemu path %q, want %q (%v)", path, want, err)
	}
}
