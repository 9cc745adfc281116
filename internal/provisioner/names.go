package provisioner

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/cowdisk/cowdisk/internal/ceph"
	"github.com/cowdisk/cowdisk/internal/errs"
)

// Instance IDs are joined to disk names with "_" and whole instances are
// deleted by that prefix, so an ID may not contain "_" (or it could match
// another instance's disks) and may not be "base" (the cache's prefix).
var (
	instanceRE = regexp.MustCompile(`^[A-Za-z0-9-]{1,64}$`)
	diskRE     = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9.-]{0,63}$`)
)

const basePrefix = "base_"

func validate(instanceID, name string) error {
	if !instanceRE.MatchString(instanceID) || instanceID+"_" == basePrefix {
		return fmt.Errorf("instance id %q: want 1-64 of [A-Za-z0-9-], not \"base\": %w", instanceID, errs.ErrInvalid)
	}
	if !diskRE.MatchString(name) || ceph.IsTemp(name) {
		return fmt.Errorf("disk name %q: want 1-64 of [A-Za-z0-9.-]: %w", name, errs.ErrInvalid)
	}
	return nil
}

func validateRequest(r *Request) error {
	if r.Name == "" {
		r.Name = DefaultDiskName
	}
	if err := validate(r.InstanceID, r.Name); err != nil {
		return err
	}
	return ValidImageID(r.ImageID)
}

// diskImageName is Nova's convention: "<instance-uuid>_<disk-name>".
func diskImageName(instanceID, name string) string { return instanceID + "_" + name }

// splitDiskName undoes diskImageName; ok is false for names that are not
// instance disks (bases, temporaries, foreign images).
func splitDiskName(image string) (instanceID, name string, ok bool) {
	if strings.HasPrefix(image, basePrefix) || ceph.IsTemp(image) {
		return "", "", false
	}
	instanceID, name, ok = strings.Cut(image, "_")
	if !ok || validate(instanceID, name) != nil {
		return "", "", false
	}
	return instanceID, name, true
}
