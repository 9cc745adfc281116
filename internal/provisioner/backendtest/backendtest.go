// Package backendtest is the conformance suite every provisioner.Backend
// passes, as storetest is for image stores: the RBD backend runs it against
// the dev cluster, the local backend against a directory. It checks what
// the node agent and Nova rely on, whatever the backend: creates by clone
// and by fallback, repeats that answer as the first create did, the disk
// operations, and bad input refused with the sentinels of internal/errs
// and nothing left behind.
package backendtest

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cowdisk/cowdisk/internal/errs"
	"github.com/cowdisk/cowdisk/internal/provisioner"
	"github.com/cowdisk/cowdisk/internal/provisioner/provtest"
)

const mib = 1 << 20

// Harness is what a backend gives the suite.
type Harness struct {
	// Backend is the backend under test, over an empty disk store and an
	// image service Image publishes to.
	Backend provisioner.Backend
	// Image publishes data (of format) and returns the image id.
	Image func(t *testing.T, format string, data []byte) string
	// RawMethod is how a disk of a raw image is made: MethodClone where
	// the image's own snapshot is clonable, MethodBaseClone otherwise.
	RawMethod provisioner.Method
	// Read returns the bytes a guest sees on d.
	Read func(t *testing.T, d provisioner.Disk) []byte
	// AssertClean fails t if the store holds anything but bases: no disk,
	// no temporary, nothing in a trash.
	AssertClean func(t *testing.T)
}

// images are the suite's images: a raw one (clonable where the backend
// can clone) and a qcow2 one (always the fallback), with the raw
// rendering a disk of each must equal.
type images struct {
	raw, qcow2         string
	rawData, qcow2Data []byte
	// cut is a qcow2 whose data clusters are cut off: it passes the
	// header checks and fails in the conversion, after a base was begun.
	cut string
}

// Run runs the suite. Subtests use instance ids of their own and delete
// their disks, so the store is clean (but for bases) when Run returns.
func Run(t *testing.T, h Harness) {
	rawImg, rawData := provtest.QemuImage(t, "raw", 8*mib)
	qcowImg, qcowData := provtest.QemuImage(t, "qcow2", 4*mib)
	im := images{raw: h.Image(t, "raw", rawImg), qcow2: h.Image(t, "qcow2", qcowImg), rawData: rawData, qcow2Data: qcowData,
		cut: h.Image(t, "qcow2", qcowImg[:len(qcowImg)/2])}
	for _, tc := range []struct {
		name string
		run  func(*testing.T, Harness, images)
	}{
		{"create by clone", testCreateRaw},
		{"create by fallback", testCreateFallback},
		{"repeat create", testRepeat},
		{"concurrent create", testConcurrent},
		{"resize", testResize},
		{"flatten", testFlatten},
		{"delete", testDelete},
		{"bad create", testBadCreate},
		{"bad disk operations", testBadOps},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Cleanup(func() { h.AssertClean(t) }) // registered first: runs after the deletes
			tc.run(t, h, im)
		})
	}
}

func ctxFor(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	return ctx
}

// create makes a disk that is deleted (with its instance) when t ends.
func create(t *testing.T, h Harness, r provisioner.Request) provisioner.Disk {
	t.Helper()
	t.Cleanup(func() {
		if err := h.Backend.DeleteInstance(context.Background(), r.InstanceID); err != nil {
			t.Errorf("delete instance %s: %v", r.InstanceID, err)
		}
	})
	d, err := h.Backend.Create(ctxFor(t), r)
	if err != nil {
		t.Fatalf("create %+v: %v", r, err)
	}
	return d
}

// wantContent fails t unless d holds want followed by zeros.
func wantContent(t *testing.T, h Harness, d provisioner.Disk, want []byte) {
	t.Helper()
	got := h.Read(t, d)
	if uint64(len(got)) != d.SizeBytes || len(got) < len(want) {
		t.Fatalf("disk %s: read %d bytes, size %d, image %d", d.Image, len(got), d.SizeBytes, len(want))
	}
	if !bytes.Equal(got[:len(want)], want) || !bytes.Equal(got[len(want):], make([]byte, len(got)-len(want))) {
		t.Fatalf("disk %s differs from qemu-img's raw rendering of the image", d.Image)
	}
}

func testCreateRaw(t *testing.T, h Harness, im images) {
	d := create(t, h, provisioner.Request{InstanceID: "ct-raw", ImageID: im.raw})
	if d.Method != h.RawMethod || d.ImageID != im.raw || d.SizeBytes != uint64(len(im.rawData)) ||
		d.InstanceID != "ct-raw" || d.Name != provisioner.DefaultDiskName || d.Existed {
		t.Fatalf("disk %+v; want a new %s of %d bytes", d, h.RawMethod, len(im.rawData))
	}
	wantContent(t, h, d, im.rawData)
	got, err := h.Backend.Get(ctxFor(t), "ct-raw", provisioner.DefaultDiskName)
	if err != nil || got.Image != d.Image || got.SizeBytes != d.SizeBytes || got.ImageID != im.raw {
		t.Fatalf("get: %+v %v; want %+v", got, err, d)
	}
	list, err := h.Backend.List(ctxFor(t), "ct-raw")
	if err != nil || len(list) != 1 || list[0].Image != d.Image {
		t.Fatalf("list: %+v %v", list, err)
	}
}

func testCreateFallback(t *testing.T, h Harness, im images) {
	d := create(t, h, provisioner.Request{InstanceID: "ct-fb", ImageID: im.qcow2, SizeBytes: 16 * mib})
	if d.Method != provisioner.MethodBaseClone || d.SizeBytes != 16*mib || d.ImageID != im.qcow2 {
		t.Fatalf("disk %+v; want a base-clone of 16 MiB", d)
	}
	wantContent(t, h, d, im.qcow2Data)
	bases, err := h.Backend.Bases(ctxFor(t))
	if err != nil || !hasBase(bases, im.qcow2) {
		t.Fatalf("bases %+v %v; want one of image %s", bases, err, im.qcow2)
	}
}

func hasBase(bases []provisioner.Base, imageID string) bool {
	for _, b := range bases {
		if b.ImageID == imageID {
			return true
		}
	}
	return false
}

// A repeat answers as the first create did; the same disk from another
// image is a conflict and changes nothing.
func testRepeat(t *testing.T, h Harness, im images) {
	for _, id := range []string{im.raw, im.qcow2} {
		r := provisioner.Request{InstanceID: "ct-rep", Name: "d" + id[:4], ImageID: id, SizeBytes: 12 * mib}
		first := create(t, h, r)
		again, err := h.Backend.Create(ctxFor(t), r)
		if err != nil || !again.Existed || again.Image != first.Image || again.SizeBytes != first.SizeBytes {
			t.Fatalf("repeat: %+v %v; want the first disk %+v, existed", again, err, first)
		}
		other := im.qcow2
		if id == other {
			other = im.raw
		}
		r.ImageID = other
		if _, err := h.Backend.Create(ctxFor(t), r); !errors.Is(err, errs.ErrConflict) {
			t.Fatalf("same disk from image %s: %v, want conflict", other, err)
		}
		if d, err := h.Backend.Get(ctxFor(t), r.InstanceID, r.Name); err != nil || d.ImageID != id {
			t.Fatalf("after the conflict: %+v %v", d, err)
		}
	}
}

// Creates of one disk at once all succeed with that one disk.
func testConcurrent(t *testing.T, h Harness, im images) {
	r := provisioner.Request{InstanceID: "ct-conc", ImageID: im.raw}
	t.Cleanup(func() { _ = h.Backend.DeleteInstance(context.Background(), r.InstanceID) })
	const n = 4
	disks, errsOut := make([]provisioner.Disk, n), make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			disks[i], errsOut[i] = h.Backend.Create(ctxFor(t), r)
		}()
	}
	wg.Wait()
	made := 0
	for i := range n {
		if errsOut[i] != nil || disks[i].Image != disks[0].Image {
			t.Fatalf("create %d: %+v %v", i, disks[i], errsOut[i])
		}
		if !disks[i].Existed {
			made++
		}
	}
	if list, err := h.Backend.List(ctxFor(t), r.InstanceID); err != nil || len(list) != 1 || made < 1 {
		t.Fatalf("%d creates made the disk; list %+v %v", made, list, err)
	}
}

func testResize(t *testing.T, h Harness, im images) {
	d := create(t, h, provisioner.Request{InstanceID: "ct-rs", ImageID: im.raw})
	ctx := ctxFor(t)
	got, err := h.Backend.Resize(ctx, "ct-rs", d.Name, 24*mib)
	if err != nil || got.SizeBytes != 24*mib {
		t.Fatalf("grow: %+v %v", got, err)
	}
	wantContent(t, h, got, im.rawData)
	for _, tc := range []struct {
		name string
		size uint64
		want error
	}{
		{"shrink", 16 * mib, errs.ErrTooSmall},
		{"over the node's bound", 1 << 62, errs.ErrInvalid},
	} {
		if _, err := h.Backend.Resize(ctx, "ct-rs", d.Name, tc.size); !errors.Is(err, tc.want) {
			t.Errorf("%s: %v, want %v", tc.name, err, tc.want)
		}
	}
	if now, err := h.Backend.Get(ctx, "ct-rs", d.Name); err != nil || now.SizeBytes != 24*mib {
		t.Fatalf("after refused resizes: %+v %v", now, err)
	}
}

func testFlatten(t *testing.T, h Harness, im images) {
	d := create(t, h, provisioner.Request{InstanceID: "ct-fl", ImageID: im.raw})
	if d.Parent == "" {
		t.Fatalf("new disk %+v has no parent", d)
	}
	got, err := h.Backend.Flatten(ctxFor(t), "ct-fl", d.Name)
	if err != nil || got.Parent != "" || got.SizeBytes != d.SizeBytes {
		t.Fatalf("flatten: %+v %v", got, err)
	}
	wantContent(t, h, got, im.rawData)
}

func testDelete(t *testing.T, h Harness, im images) {
	ctx := ctxFor(t)
	create(t, h, provisioner.Request{InstanceID: "ct-del", ImageID: im.raw})
	create(t, h, provisioner.Request{InstanceID: "ct-del", Name: "data", ImageID: im.raw})
	keep := create(t, h, provisioner.Request{InstanceID: "ct-del2", ImageID: im.raw})
	for range 2 { // the second time there is nothing to delete
		if err := h.Backend.Delete(ctx, "ct-del", "data"); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := h.Backend.Get(ctx, "ct-del", "data"); !errors.Is(err, errs.ErrNotFound) {
		t.Fatalf("get deleted disk: %v, want not found", err)
	}
	for range 2 {
		if err := h.Backend.DeleteInstance(ctx, "ct-del"); err != nil {
			t.Fatal(err)
		}
	}
	if list, err := h.Backend.List(ctx, "ct-del"); err != nil || len(list) != 0 {
		t.Fatalf("after delete instance: %+v %v", list, err)
	}
	// "ct-del2" shares the prefix "ct-del": it must survive.
	if d, err := h.Backend.Get(ctx, "ct-del2", keep.Name); err != nil || d.Image != keep.Image {
		t.Fatalf("other instance: %+v %v", d, err)
	}
}

// Bad create requests fail with the sentinel that names the cause, and
// leave no disk (Run checks the store after each subtest).
func testBadCreate(t *testing.T, h Harness, im images) {
	const unknown = "00000000-0000-4000-8000-00000000dead"
	for _, tc := range []struct {
		name string
		r    provisioner.Request
		want error
	}{
		{"instance base", provisioner.Request{InstanceID: "base", ImageID: im.raw}, errs.ErrInvalid},
		{"instance with _", provisioner.Request{InstanceID: "ct_bad", ImageID: im.raw}, errs.ErrInvalid},
		{"empty instance", provisioner.Request{ImageID: im.raw}, errs.ErrInvalid},
		{"long instance", provisioner.Request{InstanceID: strings.Repeat("a", 65), ImageID: im.raw}, errs.ErrInvalid},
		{"path in disk name", provisioner.Request{InstanceID: "ct-bad", Name: "../x", ImageID: im.raw}, errs.ErrInvalid},
		{"temporary disk name", provisioner.Request{InstanceID: "ct-bad", Name: "x.tmp-y", ImageID: im.raw}, errs.ErrInvalid},
		{"bad image id", provisioner.Request{InstanceID: "ct-bad", ImageID: "../../etc/passwd"}, errs.ErrInvalid},
		{"unknown image", provisioner.Request{InstanceID: "ct-bad", ImageID: unknown}, errs.ErrNotFound},
		{"smaller than the image", provisioner.Request{InstanceID: "ct-bad", ImageID: im.raw, SizeBytes: mib}, errs.ErrTooSmall},
		{"huge size", provisioner.Request{InstanceID: "ct-bad", ImageID: im.raw, SizeBytes: 1 << 62}, errs.ErrInvalid},
		{"conversion fails", provisioner.Request{InstanceID: "ct-bad", ImageID: im.cut}, errs.ErrUnsafeImage},
		{"huge size by fallback", provisioner.Request{InstanceID: "ct-bad", ImageID: im.qcow2, SizeBytes: 1 << 62}, errs.ErrInvalid},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := h.Backend.Create(ctxFor(t), tc.r)
			if !errors.Is(err, tc.want) {
				t.Fatalf("err %v, want %v", err, tc.want)
			}
			if list, lerr := h.Backend.List(ctxFor(t), ""); lerr != nil || len(list) != 0 {
				t.Fatalf("left disks %+v %v", list, lerr)
			}
			if tc.r.ImageID == im.cut { // no base of an image that failed
				if bases, berr := h.Backend.Bases(ctxFor(t)); berr != nil || hasBase(bases, im.cut) {
					t.Fatalf("bases after a failed conversion: %+v %v", bases, berr)
				}
			}
			h.AssertClean(t)
		})
	}
}

// Operations on bad or missing disks name the cause.
func testBadOps(t *testing.T, h Harness, _ images) {
	ctx := ctxFor(t)
	b := h.Backend
	for _, tc := range []struct {
		name string
		op   func() error
		want error
	}{
		{"get bad instance", func() error { _, err := b.Get(ctx, "a_b", "disk"); return err }, errs.ErrInvalid},
		{"get missing", func() error { _, err := b.Get(ctx, "ct-none", "disk"); return err }, errs.ErrNotFound},
		{"resize bad name", func() error { _, err := b.Resize(ctx, "ct-none", "../x", mib); return err }, errs.ErrInvalid},
		{"resize missing", func() error { _, err := b.Resize(ctx, "ct-none", "disk", 64*mib); return err }, errs.ErrNotFound},
		{"flatten missing", func() error { _, err := b.Flatten(ctx, "ct-none", "disk"); return err }, errs.ErrNotFound},
		{"delete bad instance", func() error { return b.Delete(ctx, "base", "disk") }, errs.ErrInvalid},
		{"delete instance bad id", func() error { return b.DeleteInstance(ctx, "x_y") }, errs.ErrInvalid},
		{"delete missing", func() error { return b.Delete(ctx, "ct-none", "disk") }, nil},
		{"delete missing instance", func() error { return b.DeleteInstance(ctx, "ct-none") }, nil},
	} {
		if err := tc.op(); !errors.Is(err, tc.want) || (tc.want == nil && err != nil) {
			t.Errorf("%s: %v, want %v", tc.name, err, tc.want)
		}
	}
}
