package provisioner

import (
	"fmt"
	"strings"

	"github.com/cowdisk/cowdisk/internal/errs"
)

// Every disk records who owns it and where it came from as RBD image
// metadata (the local backend: a sidecar file). The keys are written before
// the disk's completion marker (ceph.Complete), so a disk that counts always
// has its owner: one without the marker is a crashed create. Metadata lives
// in the image header: it follows the disk through rename, resize and
// flatten, so a flattened disk still tells its image id.
const (
	MetaOwner   = "cowdisk.owner"
	MetaImageID = "cowdisk.image_id"
	MetaMethod  = "cowdisk.method"
)

// maxOwnerLen bounds the project id recorded per disk (Keystone ids are 32
// hex digits; names up to 64).
const maxOwnerLen = 255

// validateOwner refuses an owner that could not be stored or compared
// safely. An empty owner is allowed: the library may be used without
// authentication, and such a disk is then visible to admin and service
// callers only, like a disk made before owners were recorded.
func validateOwner(owner string) error {
	if len(owner) > maxOwnerLen || strings.ContainsFunc(owner, func(r rune) bool { return r < 0x20 || r == 0x7f }) {
		return fmt.Errorf("owner %.40q: want at most %d printable bytes: %w", owner, maxOwnerLen, errs.ErrInvalid)
	}
	return nil
}

// diskMeta is what a new disk records.
func diskMeta(req Request, method Method) map[string]string {
	return map[string]string{MetaOwner: req.Owner, MetaImageID: req.ImageID, MetaMethod: string(method)}
}

// applyMeta fills d from recorded metadata: the owner always, the image and
// method only where the parent no longer tells them (a flattened disk).
func applyMeta(d *Disk, kv map[string]string) {
	d.Owner = kv[MetaOwner]
	if d.ImageID == "" && kv[MetaImageID] != "" {
		d.ImageID, d.Method = kv[MetaImageID], Method(kv[MetaMethod])
	}
}

// methodOf tells how a clone of parent was made: from a base in the vms
// pool, or from the image's own snapshot.
func (b *RBD) methodOf(parentPool, parentImage string) Method {
	if parentPool == b.cfg.VMsPool && strings.HasPrefix(parentImage, basePrefix) {
		return MethodBaseClone
	}
	return MethodClone
}
