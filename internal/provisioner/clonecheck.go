package provisioner

import (
	"context"
	"fmt"

	"github.com/cowdisk/cowdisk/internal/ceph"
	"github.com/cowdisk/cowdisk/internal/imageformat"
)

// checkCloneSource inspects the bytes of the snapshot a disk is about to be
// cloned from. The record's disk_format says raw, but the record is the
// image service's word: a qcow2 behind a "raw" label, handed to a guest as
// raw, lets it read host files through a backing file (CVE-2024-40767).
// The inspector reads the head, the tail and what its parsers ask for: a
// few reads, not the image.
func (b *RBD) checkCloneSource(ctx context.Context, ref ceph.SnapRef, img Image) error {
	r, err := b.c.OpenReader(ctx, ref.Pool, ref.Image, ref.Snap)
	if err != nil {
		return err
	}
	defer r.Close()
	info, err := imageformat.InspectReaderAt(r, r.Size(), b.cfg.Limits)
	if err != nil && info.Format == "" {
		return fmt.Errorf("inspect %s before cloning: %w", ref.String(), err)
	}
	if err := imageformat.Check(info, img.DiskFormat); err != nil {
		return fmt.Errorf("image %s: snapshot %s cannot be cloned: %w", img.ID, ref.String(), err)
	}
	return nil
}
