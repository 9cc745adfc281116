package provisioner_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cowdisk/cowdisk/internal/ceph"
	"github.com/cowdisk/cowdisk/internal/errs"
	"github.com/cowdisk/cowdisk/internal/provisioner"
	"github.com/cowdisk/cowdisk/internal/provisioner/provtest"
	"github.com/cowdisk/cowdisk/internal/testcluster"
)

// Images made by qemu-img become disks whose bytes equal `qemu-img convert
// -O raw` of the same file; a file-store location is refused as not rbd.
func TestClusterFallbackContent(t *testing.T) {
	e := newClusterEnv(t)
	svc := fileService(t)
	b := e.backend(t, svc.source(), nil)
	ctx := context.Background()
	for _, format := range []string{"raw", "qcow2", "vmdk"} {
		t.Run(format, func(t *testing.T) {
			img, want := provtest.QemuImage(t, format, 10*mib)
			id := svc.upload(t, format, img)
			d, err := b.Create(ctx, provisioner.Request{InstanceID: "fb-" + format, ImageID: id, SizeBytes: 12 * mib})
			if err != nil {
				t.Fatal(err)
			}
			if d.Method != provisioner.MethodBaseClone || d.Parent == "" || len(d.Reasons) == 0 ||
				!strings.Contains(d.Reasons[0], "not an rbd snapshot location") {
				t.Fatalf("disk %+v", d)
			}
			got := e.readDisk(t, d.Pool, d.Image)
			if len(got) != 12*mib || !bytes.Equal(got[:len(want)], want) || !bytes.Equal(got[len(want):], make([]byte, len(got)-len(want))) {
				t.Fatalf("disk content differs from qemu-img convert -O raw (len %d)", len(got))
			}
		})
	}
}

// Sixteen first boots of one qcow2 image on a node share one download and
// one conversion; every disk clones the one base.
func TestClusterConcurrentFirstBoots(t *testing.T) {
	e := newClusterEnv(t)
	svc := fileService(t)
	b := e.backend(t, svc.source(), nil)
	img, _ := provtest.QemuImage(t, "qcow2", 8*mib)
	id := svc.upload(t, "qcow2", img)
	var wg sync.WaitGroup
	out := make([]error, 16)
	for i := range out {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, out[i] = b.Create(context.Background(), provisioner.Request{InstanceID: fmt.Sprintf("boot-%02d", i), ImageID: id})
		}()
	}
	wg.Wait()
	if err := errors.Join(out...); err != nil {
		t.Fatal(err)
	}
	if dl, conv := b.Stats().Downloads.Load(), b.Stats().Conversions.Load(); dl != 1 || conv != 1 {
		t.Fatalf("%d downloads and %d conversions, want 1 and 1", dl, conv)
	}
	bases, err := b.Bases(context.Background())
	if err != nil || len(bases) != 1 || len(bases[0].Children) != 16 {
		t.Fatalf("bases %+v %v", bases, err)
	}
}

// A disk smaller than the image is refused before anything is created.
func TestClusterTooSmall(t *testing.T) {
	e := newClusterEnv(t)
	svc := fileService(t)
	b := e.backend(t, svc.source(), nil)
	for _, format := range []string{"raw", "qcow2"} {
		img, _ := provtest.QemuImage(t, format, 8*mib)
		id := svc.upload(t, format, img)
		_, err := b.Create(context.Background(), provisioner.Request{InstanceID: "small", ImageID: id, SizeBytes: 4 * mib})
		if !errors.Is(err, errs.ErrTooSmall) || !strings.Contains(err.Error(), "disk smaller than image") {
			t.Fatalf("%s: %v, want too small", format, err)
		}
		testcluster.AssertPoolClean(t, e.c, e.vmsPool)
	}
	if n := b.Stats().Downloads.Load(); n != 0 {
		t.Fatalf("%d downloads for refused disks", n)
	}
}

// Deleting an instance removes exactly its disks, twice is fine, and the
// base the others clone stays.
func TestClusterDeleteInstance(t *testing.T) {
	e := newClusterEnv(t)
	svc := fileService(t)
	b := e.backend(t, svc.source(), nil)
	img, _ := provtest.QemuImage(t, "raw", 4*mib)
	id := svc.upload(t, "raw", img)
	ctx := context.Background()
	for _, r := range []provisioner.Request{{InstanceID: "del1"}, {InstanceID: "del1", Name: "disk.local"}, {InstanceID: "del10"}, {InstanceID: "del2"}} {
		r.ImageID = id
		if _, err := b.Create(ctx, r); err != nil {
			t.Fatal(err)
		}
	}
	for range 2 {
		if err := b.DeleteInstance(ctx, "del1"); err != nil {
			t.Fatal(err)
		}
	}
	testcluster.AssertPoolClean(t, e.c, e.vmsPool, "del10_disk", "del2_disk", "base_"+id)
}

// The libvirt <disk> parses back and names the pool, image and monitors.
func TestClusterLibvirtXML(t *testing.T) {
	e := newClusterEnv(t)
	svc := fileService(t)
	b := e.backend(t, svc.source(), func(c *provisioner.RBDConfig) {
		c.Auth = provisioner.Auth{User: "admin", SecretUUID: "2a5b08e4-3dd0-4ecf-8f2a-5d6f2e8c9a11"}
	})
	img, _ := provtest.QemuImage(t, "raw", 4*mib)
	id := svc.upload(t, "raw", img)
	ctx := context.Background()
	if _, err := b.Create(ctx, provisioner.Request{InstanceID: "xml1", ImageID: id}); err != nil {
		t.Fatal(err)
	}
	disk, err := b.Attachment(ctx, "xml1", "disk", "")
	back := provtest.ParseBack(t, disk, err)
	mons, err := e.c.MonitorAddrs(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var hosts []string
	for _, h := range back.Source.Network.Hosts {
		hosts = append(hosts, h.Name+":"+h.Port)
	}
	if back.Source.Network.Name != e.vmsPool+"/xml1_disk" || !slices.Equal(hosts, mons) || back.Source.Network.Auth.Secret.UUID == "" {
		t.Fatalf("xml names %s %v, want %s/xml1_disk %v", back.Source.Network.Name, hosts, e.vmsPool, mons)
	}
}

// --never-download refuses what cannot be cloned, with the reason, and
// makes nothing; a clone is still fine.
func TestClusterNeverDownload(t *testing.T) {
	e := newClusterEnv(t)
	svc := e.rbdService(t)
	raw, _ := provtest.QemuImage(t, "raw", 4*mib)
	qcow, _ := provtest.QemuImage(t, "qcow2", 4*mib)
	rawID, qcowID := svc.upload(t, "raw", raw), svc.upload(t, "qcow2", qcow)
	b := e.backend(t, svc.source(), func(c *provisioner.RBDConfig) { c.NeverDownload = true })
	ctx := context.Background()
	_, err := b.Create(ctx, provisioner.Request{InstanceID: "never", ImageID: qcowID})
	if !errors.Is(err, errs.ErrRefused) || !strings.Contains(err.Error(), "is not raw") {
		t.Fatalf("qcow2: %v, want refused with the reason", err)
	}
	testcluster.AssertPoolClean(t, e.c, e.vmsPool)
	if d, err := b.Create(ctx, provisioner.Request{InstanceID: "never", ImageID: rawID}); err != nil || d.Method != provisioner.MethodClone {
		t.Fatalf("raw: %+v %v", d, err)
	}
	if n := b.Stats().Downloads.Load(); n != 0 {
		t.Fatalf("%d downloads", n)
	}
}

// At start the agent removes what its node's journal records and a crash
// left, and only that: another node's staging, and a name merely spelled
// like this node's temporaries (what a lying image service once got a node
// to create, issue 11 finding 3), are not touched.
func TestClusterReap(t *testing.T) {
	e := newClusterEnv(t)
	b := e.backend(t, fileService(t).source(), nil) // node "t1"
	ctx := context.Background()
	var mine []string
	for _, final := range []string{"r1_disk", "base_x"} {
		n, err := e.c.Stage(ctx, e.vmsPool, "t1", final)
		if err != nil {
			t.Fatal(err)
		}
		mine = append(mine, n)
	}
	theirs, err := e.c.Stage(ctx, e.vmsPool, "t2", "base_x")
	if err != nil {
		t.Fatal(err)
	}
	planted := "base_x.tmp-t1-1"
	for _, n := range append(mine, theirs, planted) {
		if err := e.c.CreateImage(ctx, e.vmsPool, n, mib, ceph.ImageOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	t.Cleanup(func() {
		ctx := context.Background()
		for _, n := range []string{theirs, planted} {
			_ = e.c.Remove(ctx, e.vmsPool, n, ceph.RemoveOptions{Retries: -1})
		}
		_ = e.c.Settle(ctx, e.vmsPool, "t2", theirs)
	})
	reaped, err := b.Reap(ctx)
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(mine)
	if !slices.Equal(reaped, mine) {
		t.Fatalf("reaped %v, want %v", reaped, mine)
	}
	if ok, err := e.c.Recorded(ctx, e.vmsPool, "t2", theirs); err != nil || !ok {
		t.Fatalf("t2's record of %s: %v, %v", theirs, ok, err)
	}
	if err := e.c.Settle(ctx, e.vmsPool, "t2", theirs); err != nil {
		t.Fatal(err)
	}
	testcluster.AssertPoolClean(t, e.c, e.vmsPool, theirs, planted)
}

// crashedClone makes a backend of node "t1" over a raw image, and leaves
// what an agent killed between the clone and the completion marker leaves:
// the intent recorded and the disk cloned under its final name, with no
// metadata.
func crashedClone(t *testing.T, disk string) (e *clusterEnv, b *provisioner.RBD, imageID string, raw []byte) {
	t.Helper()
	e = newClusterEnv(t)
	svc := e.rbdService(t)
	raw, _ = provtest.QemuImage(t, "raw", 4*mib)
	imageID = svc.upload(t, "raw", raw)
	b = e.backend(t, svc.source(), nil)
	ctx := context.Background()
	if err := e.c.Intent(ctx, e.vmsPool, "t1", disk); err != nil {
		t.Fatal(err)
	}
	parent := ceph.SnapRef{Pool: e.imagesPool, Image: imageID, Snap: "snap"}
	if err := e.c.Clone(ctx, parent, e.vmsPool, disk, ceph.ImageOptions{}); err != nil {
		t.Fatal(err)
	}
	return e, b, imageID, raw
}

// A disk whose create was cut short is not a disk: Get says not found, List
// leaves it out, and the reaper removes it; a complete disk with a stale
// intent is kept.
func TestClusterCrashMidCloneReaped(t *testing.T) {
	e, b, id, _ := crashedClone(t, "cut_disk")
	ctx := context.Background()
	if _, err := b.Get(ctx, "cut", "disk"); !errors.Is(err, errs.ErrNotFound) {
		t.Fatalf("Get of a disk cut short: %v, want ErrNotFound", err)
	}
	done, err := b.Create(ctx, provisioner.Request{InstanceID: "done", ImageID: id})
	if err != nil {
		t.Fatal(err)
	}
	if err := e.c.Intent(ctx, e.vmsPool, "t1", done.Image); err != nil { // a settle that never ran
		t.Fatal(err)
	}
	if disks, err := b.List(ctx, ""); err != nil || len(disks) != 1 || disks[0].Image != done.Image {
		t.Fatalf("List = %+v, %v; want only %s", disks, err, done.Image)
	}
	reaped, err := b.Reap(ctx)
	if err != nil || !slices.Equal(reaped, []string{"cut_disk"}) {
		t.Fatalf("Reap = %v, %v; want cut_disk removed", reaped, err)
	}
	if d, err := b.Get(ctx, "done", "disk"); err != nil || d.ImageID != id {
		t.Fatalf("complete disk after Reap: %+v, %v", d, err)
	}
	testcluster.AssertPoolClean(t, e.c, e.vmsPool, done.Image)
}

// A repeat create of a disk whose first create was cut short succeeds: it
// removes the incomplete disk of its own journal and clones again.
func TestClusterRepeatCreateAfterCrash(t *testing.T) {
	e, b, id, raw := crashedClone(t, "again_disk")
	ctx := context.Background()
	d, err := b.Create(ctx, provisioner.Request{InstanceID: "again", ImageID: id, SizeBytes: 8 * mib, Owner: "p1"})
	if err != nil {
		t.Fatal(err)
	}
	if d.Existed || d.SizeBytes != 8*mib || d.Method != provisioner.MethodClone {
		t.Fatalf("repeat create after a crash: %+v", d)
	}
	got, err := b.Get(ctx, "again", "disk")
	if err != nil || got.Owner != "p1" || got.ImageID != id || got.SizeBytes != 8*mib {
		t.Fatalf("Get = %+v, %v", got, err)
	}
	if !bytes.Equal(e.readDisk(t, e.vmsPool, "again_disk")[:len(raw)], raw) {
		t.Fatal("the disk does not read back the image")
	}
	testcluster.AssertPoolClean(t, e.c, e.vmsPool, "again_disk")
}

// Two nodes making the first disks of one image at once end with one base:
// the loser of the exclusive rename drops its copy and clones the winner's.
func TestClusterTwoNodesOneBase(t *testing.T) {
	e := newClusterEnv(t)
	svc := fileService(t)
	img, _ := provtest.QemuImage(t, "qcow2", 8*mib)
	id := svc.upload(t, "qcow2", img)
	nodes := []*provisioner.RBD{
		e.backend(t, svc.source(), func(c *provisioner.RBDConfig) { c.Node = "na" }),
		e.backend(t, svc.source(), func(c *provisioner.RBDConfig) { c.Node = "nb" }),
	}
	var wg sync.WaitGroup
	disks := make([]provisioner.Disk, len(nodes))
	errsOut := make([]error, len(nodes))
	for i, b := range nodes {
		wg.Go(func() {
			disks[i], errsOut[i] = b.Create(context.Background(), provisioner.Request{InstanceID: fmt.Sprintf("two%d", i), ImageID: id})
		})
	}
	wg.Wait()
	if err := errors.Join(errsOut...); err != nil {
		t.Fatal(err)
	}
	if disks[0].Parent == "" || disks[0].Parent != disks[1].Parent {
		t.Fatalf("parents %q and %q, want one base", disks[0].Parent, disks[1].Parent)
	}
	testcluster.AssertPoolClean(t, e.c, e.vmsPool, "two0_disk", "two1_disk", "base_"+id)
}

// Concurrent creates of one disk (a retrying orchestrator) give one disk:
// one request makes it, the others get it back as a repeat.
func TestClusterSameDiskConcurrently(t *testing.T) {
	e := newClusterEnv(t)
	svc := e.rbdService(t)
	raw, _ := provtest.QemuImage(t, "raw", 4*mib)
	id := svc.upload(t, "raw", raw)
	b := e.backend(t, svc.source(), nil)
	var wg sync.WaitGroup
	made := make([]bool, 8)
	errsOut := make([]error, 8)
	for i := range made {
		wg.Go(func() {
			// A size forces the temporary name and the publish step.
			d, err := b.Create(context.Background(), provisioner.Request{InstanceID: "same", ImageID: id, SizeBytes: 8 * mib})
			made[i], errsOut[i] = err == nil && !d.Existed, err
		})
	}
	wg.Wait()
	if err := errors.Join(errsOut...); err != nil {
		t.Fatal(err)
	}
	if n := len(slices.DeleteFunc(made, func(m bool) bool { return !m })); n != 1 {
		t.Fatalf("%d requests say they made the disk, want 1", n)
	}
	testcluster.AssertPoolClean(t, e.c, e.vmsPool, "same_disk")
}

// Reap purges this node's temporaries from the trash (the old Reap put
// watched ones there and nothing took them out), and no other node's.
func TestClusterReapPurgesOwnTrash(t *testing.T) {
	e := newClusterEnv(t)
	b := e.backend(t, fileService(t).source(), nil) // node "t1"
	ctx := context.Background()
	staged := map[string]string{}
	for _, owner := range []string{"t1", "t2"} {
		n, err := e.c.Stage(ctx, e.vmsPool, owner, "rt_disk")
		if err != nil {
			t.Fatal(err)
		}
		staged[owner] = n
		w, err := e.c.OpenWriter(ctx, e.vmsPool, n, mib, ceph.ImageOptions{})
		if err != nil {
			t.Fatal(err)
		}
		// Trashed while watched, as a last reap round does.
		err = e.c.Remove(ctx, e.vmsPool, n, ceph.RemoveOptions{Retries: -1, TrashAsLastResort: true})
		_ = w.Abort(ctx)
		if err != nil {
			t.Fatal(err)
		}
	}
	mine, theirs := staged["t1"], staged["t2"]
	t.Cleanup(func() {
		_ = e.c.TrashPurge(context.Background(), e.vmsPool)
		_ = e.c.Settle(context.Background(), e.vmsPool, "t2", theirs)
	})
	if _, err := b.Reap(ctx); err != nil {
		t.Fatal(err)
	}
	trash, err := e.c.ListTrash(ctx, e.vmsPool)
	if err != nil {
		t.Fatal(err)
	}
	if len(trash) != 1 || trash[0].Name != theirs {
		t.Fatalf("trash %+v, want only %s (%s purged)", trash, theirs, mine)
	}
}

// Reap honours ctx: a temporary that stays busy does not hold it past ctx.
func TestClusterReapHonoursContext(t *testing.T) {
	e := newClusterEnv(t)
	b := e.backend(t, fileService(t).source(), nil)
	ctx := context.Background()
	n, err := e.c.Stage(ctx, e.vmsPool, "t1", "rc_disk")
	if err != nil {
		t.Fatal(err)
	}
	w, err := e.c.OpenWriter(ctx, e.vmsPool, n, mib, ceph.ImageOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = w.Abort(context.Background())
		_ = e.c.Settle(context.Background(), e.vmsPool, "t1", n)
	})
	cctx, cancel := context.WithTimeout(ctx, 500*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err = b.Reap(cctx)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Reap: %v, want the context's deadline", err)
	}
	if took := time.Since(start); took > 3*time.Second {
		t.Fatalf("Reap took %v after its context ended", took)
	}
}
