package ceph

import (
	"fmt"
	"math/bits"
	"strconv"
	"strings"

	"github.com/ceph/go-ceph/rbd"

	"github.com/cowdisk/cowdisk/internal/errs"
)

// featureNames are librbd's features by the names the rbd CLI and
// rbd_default_features use, in bit order. Only the settable ones may be
// asked for; librbd sets the others itself (a format-2 clone gets
// "operations", for instance).
var featureNames = []struct {
	name     string
	bit      uint64
	settable bool
}{
	{rbd.FeatureNameLayering, rbd.FeatureLayering, true},
	{rbd.FeatureNameStripingV2, rbd.FeatureStripingV2, true},
	{rbd.FeatureNameExclusiveLock, rbd.FeatureExclusiveLock, true},
	{rbd.FeatureNameObjectMap, rbd.FeatureObjectMap, true},
	{rbd.FeatureNameFastDiff, rbd.FeatureFastDiff, true},
	{rbd.FeatureNameDeepFlatten, rbd.FeatureDeepFlatten, true},
	{rbd.FeatureNameJournaling, rbd.FeatureJournaling, true},
	{rbd.FeatureNameDataPool, rbd.FeatureDataPool, false},
	{rbd.FeatureNameOperations, rbd.FeatureOperations, false},
	{rbd.FeatureNameMigrating, rbd.FeatureMigrating, false},
}

// FeatureOperations is set by librbd on format-2 clones (and images with
// other new-style restrictions); it is never asked for.
const FeatureOperations = rbd.FeatureOperations

// featureNeeds lists, for a feature, the one it cannot work without;
// librbd answers a bare EINVAL to these combinations, so they are checked
// here to say which feature is missing.
var featureNeeds = map[uint64]uint64{
	rbd.FeatureObjectMap:  rbd.FeatureExclusiveLock,
	rbd.FeatureFastDiff:   rbd.FeatureObjectMap,
	rbd.FeatureJournaling: rbd.FeatureExclusiveLock,
}

// ParseFeatures reads a feature set as rbd_default_features is written:
// a decimal bit mask ("61") or comma-separated names
// ("layering,exclusive-lock"). Unknown names or bits and combinations
// librbd refuses are errs.ErrInvalid.
func ParseFeatures(s string) (uint64, error) {
	s = strings.TrimSpace(s)
	if n, err := strconv.ParseUint(s, 10, 64); err == nil {
		return n, ValidateFeatures(n)
	}
	var f uint64
	for _, name := range strings.Split(s, ",") {
		bit, ok := settableBit(strings.TrimSpace(name))
		if !ok {
			return 0, fmt.Errorf("rbd features %q: unknown or not settable feature %q: %w", s, name, errs.ErrInvalid)
		}
		f |= bit
	}
	return f, ValidateFeatures(f)
}

func settableBit(name string) (uint64, bool) {
	for _, fn := range featureNames {
		if fn.name == name && fn.settable {
			return fn.bit, true
		}
	}
	return 0, false
}

// ValidateFeatures refuses bits a new image cannot have (unknown, or set
// only by librbd itself) and features without the one they depend on.
func ValidateFeatures(f uint64) error {
	var known uint64
	for _, fn := range featureNames {
		if fn.settable {
			known |= fn.bit
		}
	}
	if extra := f &^ known; extra != 0 {
		return fmt.Errorf("rbd features %#x: bits %#x cannot be set on a new image: %w", f, extra, errs.ErrInvalid)
	}
	for feat, need := range featureNeeds {
		if f&feat != 0 && f&need == 0 {
			return fmt.Errorf("rbd features %s: %s needs %s: %w",
				FeatureString(f), FeatureString(feat), FeatureString(need), errs.ErrInvalid)
		}
	}
	return nil
}

// FeatureString names the features of f, comma-separated in bit order,
// as `rbd info` lists them; unknown bits are shown in hex.
func FeatureString(f uint64) string {
	var names []string
	for _, fn := range featureNames {
		if f&fn.bit != 0 {
			names = append(names, fn.name)
			f &^= fn.bit
		}
	}
	for f != 0 {
		bit := uint64(1) << bits.TrailingZeros64(f)
		names = append(names, fmt.Sprintf("%#x", bit))
		f &^= bit
	}
	return strings.Join(names, ",")
}

// DefaultFeatures is rbd_default_features as this connection sees it (its
// ceph.conf, overrides and the monitors' config database), which is what
// `rbd create`, `rbd import`, glance_store and Nova give new images. It
// reads local state only, so it takes no context and cannot block.
func (c *Cluster) DefaultFeatures() (uint64, error) {
	v, err := c.s.conn.GetConfigOption("rbd_default_features")
	if err != nil {
		return 0, translate(err, "read rbd_default_features of", "cluster "+c.s.fsid)
	}
	f, err := ParseFeatures(v)
	if err != nil {
		return 0, fmt.Errorf("rbd_default_features of cluster %s: %w", c.s.fsid, err)
	}
	return f, nil
}
