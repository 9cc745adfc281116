package agent

import (
	"context"
	"errors"
	"fmt"

	"libvirt.org/go/libvirtxml"

	"github.com/cowdisk/cowdisk/internal/errs"
	"github.com/cowdisk/cowdisk/internal/provisioner"
)

// scoped is the backend as one caller may use it. A disk belongs to the
// project recorded with it (provisioner.MetaOwner); only that project and
// admin or service callers see it. To everyone else it does not exist:
// 404 with the same message as a disk that is really missing, so no
// answer confirms another project's disk. A disk without a recorded owner
// (made before owners were recorded) is visible to admin and service only.
type scoped struct {
	b provisioner.Backend
	c caller
}

var _ provisioner.Backend = scoped{}

func (s scoped) all() bool { return s.c.p.ReadsAll() }

func (s scoped) owns(d provisioner.Disk) bool {
	return s.all() || (d.Owner != "" && d.Owner == s.c.p.Project)
}

func notFound(instanceID, name string) error {
	return fmt.Errorf("disk %q of instance %q: %w", name, instanceID, errs.ErrNotFound)
}

// Get returns the disk if the caller may see it.
func (s scoped) Get(ctx context.Context, instanceID, name string) (provisioner.Disk, error) {
	d, err := s.b.Get(ctx, instanceID, name)
	if errors.Is(err, errs.ErrNotFound) && !s.all() {
		return provisioner.Disk{}, notFound(instanceID, name)
	}
	if err != nil {
		return provisioner.Disk{}, err
	}
	if !s.owns(d) {
		return provisioner.Disk{}, notFound(instanceID, name)
	}
	return d, nil
}

// check refuses a disk the caller may not see before acting on it; admin
// and service may act on any, and skip the extra read.
func (s scoped) check(ctx context.Context, instanceID, name string) error {
	if s.all() {
		return nil
	}
	_, err := s.Get(ctx, instanceID, name)
	return err
}

// Create records the caller's project as the owner and reads the image as
// the caller (the context carries the token for CallerSource). A name
// another project's disk already holds is a conflict that says nothing
// about that disk.
func (s scoped) Create(ctx context.Context, r provisioner.Request) (provisioner.Disk, error) {
	r.Owner = s.c.p.Project
	name := r.Name
	if name == "" {
		name = provisioner.DefaultDiskName
	}
	taken := func() error {
		return fmt.Errorf("disk %q of instance %q: the name is taken: %w", name, r.InstanceID, errs.ErrConflict)
	}
	if !s.all() {
		if d, err := s.b.Get(ctx, r.InstanceID, name); err == nil && !s.owns(d) {
			return provisioner.Disk{}, taken()
		}
	}
	d, err := s.b.Create(withCaller(ctx, s.c), r)
	switch {
	case err == nil && !s.owns(d): // made by another project meanwhile
		return provisioner.Disk{}, taken()
	case errors.Is(err, errs.ErrConflict) && !s.all():
		// The conflict may describe another project's disk (its image):
		// say only that the name is taken unless the disk is the caller's.
		if other, gerr := s.b.Get(ctx, r.InstanceID, name); gerr == nil && !s.owns(other) {
			return provisioner.Disk{}, taken()
		}
	}
	return d, err
}

// List shows only the caller's disks (admin and service: all).
func (s scoped) List(ctx context.Context, instanceID string) ([]provisioner.Disk, error) {
	disks, err := s.b.List(ctx, instanceID)
	if err != nil {
		return nil, err
	}
	out := disks[:0]
	for _, d := range disks {
		if s.owns(d) {
			out = append(out, d)
		}
	}
	return out, nil
}

func (s scoped) Resize(ctx context.Context, instanceID, name string, size uint64) (provisioner.Disk, error) {
	if err := s.check(ctx, instanceID, name); err != nil {
		return provisioner.Disk{}, err
	}
	return s.b.Resize(ctx, instanceID, name, size)
}

func (s scoped) Flatten(ctx context.Context, instanceID, name string) (provisioner.Disk, error) {
	if err := s.check(ctx, instanceID, name); err != nil {
		return provisioner.Disk{}, err
	}
	return s.b.Flatten(ctx, instanceID, name)
}

func (s scoped) Attachment(ctx context.Context, instanceID, name, target string) (*libvirtxml.DomainDisk, error) {
	if err := s.check(ctx, instanceID, name); err != nil {
		return nil, err
	}
	return s.b.Attachment(ctx, instanceID, name, target)
}

// Delete removes the caller's disk. Admin and service keep the idempotent
// 204 for a missing disk; a project gets 404 for a disk that is missing or
// not its own alike, since answering those differently would tell which
// names other projects use.
func (s scoped) Delete(ctx context.Context, instanceID, name string) error {
	if err := s.check(ctx, instanceID, name); err != nil {
		return err
	}
	return s.b.Delete(ctx, instanceID, name)
}

// DeleteInstance removes the instance's disks the caller owns. Admin and
// service remove everything of the instance, temporaries included; a
// project's leftover temporaries go with the agent's start-up reaping.
func (s scoped) DeleteInstance(ctx context.Context, instanceID string) error {
	if s.all() {
		return s.b.DeleteInstance(ctx, instanceID)
	}
	disks, err := s.List(ctx, instanceID)
	if err != nil {
		return err
	}
	var failed []error
	for _, d := range disks {
		failed = append(failed, s.b.Delete(ctx, d.InstanceID, d.Name))
	}
	return errors.Join(failed...)
}

// cacheOnly guards the base cache: it spans every project's images.
func (s scoped) cacheOnly() error {
	if s.all() {
		return nil
	}
	return fmt.Errorf("the base cache is for admin and service callers, not project %q: %w", s.c.p.Project, errs.ErrPermission)
}

func (s scoped) Bases(ctx context.Context) ([]provisioner.Base, error) {
	if err := s.cacheOnly(); err != nil {
		return nil, err
	}
	return s.b.Bases(ctx)
}

func (s scoped) Prune(ctx context.Context) ([]string, error) {
	if err := s.cacheOnly(); err != nil {
		return nil, err
	}
	return s.b.Prune(ctx)
}

func (s scoped) Reap(ctx context.Context) ([]string, error) {
	if err := s.cacheOnly(); err != nil {
		return nil, err
	}
	return s.b.Reap(ctx)
}
