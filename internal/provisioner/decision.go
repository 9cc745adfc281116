package provisioner

import (
	"context"
	"fmt"
	"log/slog"
	"slices"

	"github.com/cowdisk/cowdisk/internal/ceph"
	"github.com/cowdisk/cowdisk/internal/rbdloc"
)

// AllowList says which RBD locations may be cloned. Nova trusts any location
// in the same cluster (OSSN-0065/0090): an image record pointing at another
// tenant's volume would hand that volume to the instance. We trust only the
// image service's own layout.
type AllowList struct {
	Pools    []string // pools images may live in (default: the image service's pool)
	Snapshot string   // the snapshot name images are published as (default "snap")
	// Image names must equal the image id: a location naming another image
	// is never cloned.
}

// snapOpener is the one cluster call the decision makes.
type snapOpener interface {
	FSID() string
	Exists(ctx context.Context, pool, name, snap string) (bool, error)
}

// chooseLocation returns the first cloneable location of img (best first)
// and, for every location it passed over, why. It logs each rejection.
func chooseLocation(ctx context.Context, c snapOpener, allow AllowList, img Image, log *slog.Logger) (ceph.SnapRef, []string, bool) {
	var reasons []string
	if len(img.Locations) == 0 {
		reasons = append(reasons, "image has no locations")
	}
	for _, loc := range img.Locations {
		ref, why := checkLocation(ctx, c, allow, img, loc)
		if why == "" {
			return ref, reasons, true
		}
		reason := rbdloc.Redact(fmt.Sprintf("%s: %s", rbdloc.Shown(loc), why))
		log.InfoContext(ctx, "location not cloneable", "image", img.ID, "reason", reason)
		reasons = append(reasons, reason)
	}
	return ceph.SnapRef{}, reasons, false
}

// checkLocation applies Nova's four tests plus the allow-list. The cheap,
// pure tests come first so an untrusted location is never opened.
func checkLocation(ctx context.Context, c snapOpener, allow AllowList, img Image, loc string) (ceph.SnapRef, string) {
	l, err := rbdloc.Parse(loc)
	if err != nil {
		// The parser's message leaves credentials out.
		return ceph.SnapRef{}, "not an rbd snapshot location: " + err.Error()
	}
	if l.Snapshot == "" {
		return ceph.SnapRef{}, "location names no snapshot"
	}
	if l.FSID != c.FSID() {
		return ceph.SnapRef{}, fmt.Sprintf("fsid %s is not this cluster (%s)", l.FSID, c.FSID())
	}
	if !isRawFormat(img.DiskFormat) {
		return ceph.SnapRef{}, fmt.Sprintf("disk_format %q is not raw", img.DiskFormat)
	}
	if !slices.Contains(allow.Pools, l.Pool) {
		return ceph.SnapRef{}, fmt.Sprintf("pool %q is not in the allow-list %v", l.Pool, allow.Pools)
	}
	if l.Image != img.ID {
		return ceph.SnapRef{}, fmt.Sprintf("image name %q is not the image id", l.Image)
	}
	if l.Snapshot != allow.Snapshot {
		return ceph.SnapRef{}, fmt.Sprintf("snapshot %q is not %q", l.Snapshot, allow.Snapshot)
	}
	ok, err := c.Exists(ctx, l.Pool, l.Image, l.Snapshot)
	switch {
	case err != nil:
		return ceph.SnapRef{}, "snapshot does not open read-only: " + err.Error()
	case !ok:
		return ceph.SnapRef{}, fmt.Sprintf("snapshot %s/%s@%s does not exist", l.Pool, l.Image, l.Snapshot)
	}
	return ceph.SnapRef{Pool: l.Pool, Image: l.Image, Snap: l.Snapshot}, ""
}
