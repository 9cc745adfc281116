package provisioner

import (
	"context"
	"fmt"
	"net"
	"strings"

	"libvirt.org/go/libvirtxml"

	"github.com/cowdisk/cowdisk/internal/errs"
)

// rbdDiskXML is the <disk type="network"> element Nova writes for an RBD
// disk: protocol rbd, "pool/image", one <host> per monitor and, with cephx,
// the user and the libvirt secret that holds its key.
func rbdDiskXML(pool, image string, mons []string, auth Auth, target string) (*libvirtxml.DomainDisk, error) {
	hosts, err := monitorHosts(mons)
	if err != nil {
		return nil, err
	}
	src := &libvirtxml.DomainDiskSourceNetwork{Protocol: "rbd", Name: pool + "/" + image, Hosts: hosts}
	if auth.User != "" {
		src.Auth = &libvirtxml.DomainDiskAuth{Username: auth.User}
		if auth.SecretUUID != "" {
			src.Auth.Secret = &libvirtxml.DomainDiskSecret{Type: "ceph", UUID: auth.SecretUUID}
		}
	}
	return &libvirtxml.DomainDisk{
		Device: "disk",
		Driver: &libvirtxml.DomainDiskDriver{Name: "qemu", Type: "raw", Cache: "writeback", Discard: "unmap"},
		Source: &libvirtxml.DomainDiskSource{Network: src},
		Target: diskTarget(target),
	}, nil
}

// fileDiskXML is the local backend's qcow2 overlay.
func fileDiskXML(path, target string) *libvirtxml.DomainDisk {
	return &libvirtxml.DomainDisk{
		Device: "disk",
		Driver: &libvirtxml.DomainDiskDriver{Name: "qemu", Type: "qcow2", Discard: "unmap"},
		Source: &libvirtxml.DomainDiskSource{File: &libvirtxml.DomainDiskSourceFile{File: path}},
		Target: diskTarget(target),
	}
}

func diskTarget(dev string) *libvirtxml.DomainDiskTarget {
	if dev == "" {
		dev = "vda"
	}
	return &libvirtxml.DomainDiskTarget{Dev: dev, Bus: "virtio"}
}

func monitorHosts(mons []string) ([]libvirtxml.DomainDiskSourceHost, error) {
	if len(mons) == 0 {
		return nil, fmt.Errorf("no monitor addresses: %w", errs.ErrUnavailable)
	}
	hosts := make([]libvirtxml.DomainDiskSourceHost, 0, len(mons))
	for _, m := range mons {
		h, p, err := net.SplitHostPort(m)
		if err != nil {
			return nil, fmt.Errorf("monitor address %q: %w", m, errs.ErrInvalid)
		}
		hosts = append(hosts, libvirtxml.DomainDiskSourceHost{Name: h, Port: p})
	}
	return hosts, nil
}

// QemuRBDPath is the same disk as qemu's legacy "rbd:" file name, for
// qemu-img and -drive: ':' inside a value is escaped and monitors are
// separated by ';'.
func QemuRBDPath(pool, image, user string, mons []string) string {
	esc := func(s string) string { return strings.ReplaceAll(s, ":", `\:`) }
	var b strings.Builder
	b.WriteString("rbd:" + esc(pool) + "/" + esc(image))
	if user != "" {
		b.WriteString(":id=" + esc(user))
	}
	if len(mons) > 0 {
		parts := make([]string, len(mons))
		for i, m := range mons {
			parts[i] = esc(m)
		}
		b.WriteString(":mon_host=" + strings.Join(parts, ";"))
	}
	return b.String()
}

// Attachment is the libvirt <disk> for an RBD disk.
func (b *RBD) Attachment(ctx context.Context, instanceID, name, target string) (*libvirtxml.DomainDisk, error) {
	d, err := b.Get(ctx, instanceID, name)
	if err != nil {
		return nil, err
	}
	mons, err := b.c.MonitorAddrs(ctx)
	if err != nil {
		return nil, err
	}
	return rbdDiskXML(d.Pool, d.Image, mons, b.cfg.Auth, target)
}

// QemuPath is the disk's qemu "rbd:" path.
func (b *RBD) QemuPath(ctx context.Context, instanceID, name string) (string, error) {
	d, err := b.Get(ctx, instanceID, name)
	if err != nil {
		return "", err
	}
	mons, err := b.c.MonitorAddrs(ctx)
	if err != nil {
		return "", err
	}
	return QemuRBDPath(d.Pool, d.Image, b.cfg.Auth.User, mons), nil
}
