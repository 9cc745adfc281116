package agent

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/cowdisk/cowdisk/internal/errs"
	"github.com/cowdisk/cowdisk/internal/imagesvc/auth"
	"github.com/cowdisk/cowdisk/internal/provisioner"
)

// cacheFixture is a CallerSource over two views of one image whose
// records are cached on a clock the test steps.
type cacheFixture struct {
	caller, service *viewSource
	now             time.Time
	src             CallerSource
	ctx             context.Context
}

func newCacheFixture() *cacheFixture {
	f := &cacheFixture{caller: &viewSource{}, service: &viewSource{}, now: time.Unix(1.8e9, 0)}
	f.src = CallerSource{Service: f.service, records: &recordCache{now: func() time.Time { return f.now }},
		AsCaller: func(string) (provisioner.ImageSource, error) { return f.caller, nil }}
	f.ctx = withCaller(context.Background(), caller{p: auth.Principal{Project: "p"}, token: "t"})
	return f
}

// publish sets the image as both views show it: the caller's without
// locations, as Glance shows it to a member.
func (f *cacheFixture) publish(img provisioner.Image) {
	f.service.set(img, nil)
	img.Locations = nil
	f.caller.set(img, nil)
}

// lookup reads the image and reports whether the service was asked.
func (f *cacheFixture) lookup(t *testing.T) (provisioner.Image, bool, error) {
	t.Helper()
	before := f.service.count()
	img, err := f.src.Image(f.ctx, "img1")
	return img, f.service.count() > before, err
}

// The service's record is read once and reused while the caller's fresh
// read shows the image unchanged; every change is seen at once.
func TestCallerSourceCachesServiceRecord(t *testing.T) {
	f := newCacheFixture()
	img := provisioner.Image{ID: "img1", Status: "active", DiskFormat: "raw", Size: 8, UpdatedAt: f.now.Add(-time.Minute),
		Locations: []string{"rbd://fsid/images/img1/snap"}}
	f.publish(img)
	changed := func(mod func(*provisioner.Image)) func() {
		return func() { mod(&img); f.publish(img) }
	}
	for _, step := range []struct {
		name       string
		change     func()
		wantRead   bool // the service was asked
		wantErr    error
		wantStatus string
		wantLoc    string
	}{
		{"first read", nil, true, nil, "active", "rbd://fsid/images/img1/snap"},
		{"unchanged", nil, false, nil, "active", "rbd://fsid/images/img1/snap"},
		{"location changed", changed(func(i *provisioner.Image) {
			i.Locations, i.UpdatedAt = []string{"rbd://fsid/images/img1/snap2"}, i.UpdatedAt.Add(time.Second)
		}), true, nil, "active", "rbd://fsid/images/img1/snap2"},
		{"unchanged again", nil, false, nil, "active", "rbd://fsid/images/img1/snap2"},
		{"deactivated within the same second", changed(func(i *provisioner.Image) { i.Status = "deactivated" }), true, nil, "deactivated", ""},
		{"reactivated", changed(func(i *provisioner.Image) { i.Status, i.UpdatedAt = "active", i.UpdatedAt.Add(time.Second) }), true, nil, "active", ""},
		{"cached after reactivation", nil, false, nil, "active", ""},
		{"deleted", func() { f.caller.set(provisioner.Image{}, errs.ErrNotFound) }, false, errs.ErrNotFound, "", ""},
		{"back (same record)", func() { f.publish(img) }, true, nil, "active", ""},
		{"entry expired", func() { f.now = f.now.Add(recordTTL + time.Second) }, true, nil, "active", ""},
		{"changed a moment ago (racy)", changed(func(i *provisioner.Image) { i.Size, i.UpdatedAt = 9, f.now.Add(-time.Second) }), true, nil, "active", ""},
		{"racy record not cached", nil, true, nil, "active", ""},
	} {
		if step.change != nil {
			step.change()
		}
		got, read, err := f.lookup(t)
		switch {
		case !errors.Is(err, step.wantErr) || (err != nil) != (step.wantErr != nil):
			t.Fatalf("%s: %v, want %v", step.name, err, step.wantErr)
		case read != step.wantRead:
			t.Fatalf("%s: service read %v, want %v", step.name, read, step.wantRead)
		case err == nil && got.Status != step.wantStatus:
			t.Fatalf("%s: status %q, want %q", step.name, got.Status, step.wantStatus)
		case step.wantLoc != "" && !slices.Equal(got.Locations, []string{step.wantLoc}):
			t.Fatalf("%s: locations %v, want %s", step.name, got.Locations, step.wantLoc)
		}
	}
}

// A record the caller may not see is never served to it, though cached
// from another caller's read.
func TestCallerSourceCacheKeepsAuthorization(t *testing.T) {
	f := newCacheFixture()
	f.publish(provisioner.Image{ID: "img1", Status: "active", DiskFormat: "raw", Size: 8, UpdatedAt: f.now.Add(-time.Minute)})
	if _, _, err := f.lookup(t); err != nil {
		t.Fatal(err)
	}
	f.caller.set(provisioner.Image{}, errs.ErrPermission) // another project
	if img, _, err := f.lookup(t); !errors.Is(err, errs.ErrNotFound) {
		t.Fatalf("caller without access: %+v %v, want not found", img, err)
	}
}

// The cache holds at most maxRecords images.
func TestRecordCacheBounded(t *testing.T) {
	now := time.Unix(1.8e9, 0)
	c := &recordCache{now: func() time.Time { return now }}
	for i := range maxRecords + 10 {
		img := provisioner.Image{ID: fmt.Sprintf("img%d", i), Status: "active", UpdatedAt: now.Add(-time.Minute)}
		c.put(img, img)
		now = now.Add(time.Millisecond)
	}
	if len(c.m) != maxRecords || c.has("img0") || !c.has(fmt.Sprintf("img%d", maxRecords+9)) {
		t.Fatalf("%d records, oldest kept %v", len(c.m), c.has("img0"))
	}
}
