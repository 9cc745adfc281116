package provisioner

import (
	"context"
	"errors"
	"fmt"

	"github.com/cowdisk/cowdisk/internal/ceph"
	"github.com/cowdisk/cowdisk/internal/errs"
	"github.com/cowdisk/cowdisk/internal/imageformat"
)

// sourceProbe is what one open of a location's snapshot tells the
// decision: that it exists (criterion 4), the inspection's verdict and,
// when it may be cloned, the facts the clone needs.
type sourceProbe struct {
	facts   parentFacts
	refused error // the snapshot exists but must not be cloned
}

// probeSource opens the snapshot a disk may be cloned from once, for the
// existence check, the inspection and the stat; a missing one is
// errs.ErrNotFound.
//
// The inspection: the record's disk_format says raw, but the record is the
// image service's word: a qcow2 behind a "raw" label, handed to a guest as
// raw, lets it read host files through a backing file (CVE-2024-40767).
// The inspector reads the head, the tail and what its parsers ask for: a
// few reads, not the image.
func (b *RBD) probeSource(ctx context.Context, ref ceph.SnapRef, img Image) (sourceProbe, error) {
	r, err := b.c.OpenReader(ctx, ref.Pool, ref.Image, ref.Snap)
	if err != nil {
		return sourceProbe{}, err
	}
	defer r.Close()
	info, err := imageformat.InspectReaderAt(r, r.Size(), b.cfg.Limits)
	if err != nil && info.Format == "" {
		return sourceProbe{refused: fmt.Errorf("inspect %s before cloning: %w", ref.String(), err)}, nil
	}
	if err := imageformat.Check(info, img.DiskFormat); err != nil {
		return sourceProbe{refused: fmt.Errorf("image %s: snapshot %s cannot be cloned: %w", img.ID, ref.String(), err)}, nil
	}
	st, err := r.Info()
	if err != nil {
		return sourceProbe{}, err
	}
	f, err := b.factsOf(ctx, ref, st)
	return sourceProbe{facts: f}, err
}

// prober is the decision's snapOpener on the clone path: the existence
// check of a location is the open that also inspects and stats it
// (probeSource), and its result is kept for cloneChecked. With cached set,
// a snapshot the parent cache knows is not opened at all.
type prober struct {
	b      *RBD
	img    Image
	cached bool
	probes map[ceph.SnapRef]sourceProbe
}

func (p *prober) FSID() string { return p.b.c.FSID() }

func (p *prober) Exists(ctx context.Context, pool, name, snap string) (bool, error) {
	ref := ceph.SnapRef{Pool: pool, Image: name, Snap: snap}
	if p.cached && p.b.parents.has(ref) {
		return true, nil
	}
	pr, err := p.b.probe(ctx, ref, p.img)
	if errors.Is(err, errs.ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	if p.probes == nil {
		p.probes = map[ceph.SnapRef]sourceProbe{}
	}
	p.probes[ref] = pr
	return true, nil
}

// cloneChecked clones an image's own snapshot: inspected and stat'ed on its
// first clone (by the decision's open, or here when the parent cache knew
// the snapshot for other image data), from the cache after.
func (b *RBD) cloneChecked(ctx context.Context, parent ceph.SnapRef, img Image, req Request, p *prober) (Disk, error) {
	key := keyOf(parent, img)
	f, ok := b.parents.get(key)
	if !ok {
		pr, probed := p.probes[parent]
		if !probed {
			var err error
			if pr, err = b.probe(ctx, parent, img); err != nil {
				return Disk{}, err
			}
		}
		if pr.refused != nil {
			return Disk{}, pr.refused
		}
		f = pr.facts
		b.parents.put(key, f)
	}
	d, err := b.cloneFrom(ctx, parent, f, req)
	if err != nil {
		b.parents.drop(key) // the snapshot may be gone: look again next time
	}
	if ok && errors.Is(err, errs.ErrNotFound) {
		err = fmt.Errorf("%w: %w", errStaleParent, err)
	}
	return d, err
}
