package provisioner

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/cowdisk/cowdisk/internal/provisioner/provtest"
)

// localLeftovers lists the files of a local directory that a failed
// create must not leave: anything in a staging directory, anything in
// disks/, and (with bases) anything in bases/.
func localLeftovers(dir string, bases bool) []string {
	globs := []string{filepath.Join(stagingDir(dir), "*", "*"), filepath.Join(dir, "disks", "*")}
	if bases {
		globs = append(globs, filepath.Join(dir, "bases", "*"))
	}
	var left []string
	for _, g := range globs {
		m, _ := filepath.Glob(g)
		left = append(left, m...)
	}
	return left
}

// crash lets go of the staging directory as a process's death would: its
// lock is released, its files stay.
func (l *Local) crash() { l.stage.lock.Close() }

func write(t *testing.T, path string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte("x"), 0o640); err != nil {
		t.Fatal(err)
	}
}

func exists(path string) bool { _, err := os.Lstat(path); return err == nil }

// A crash leaves temporaries in the dead process's staging directory and
// perhaps a sidecar without its disk. The start-up reaper removes that
// staging directory whole and nothing else: not a live process's, not
// files in bases/ or disks/ named like the temporaries of old (which it
// used to guess from "*.tmp-*"), not what a symlink leads to. The orphan
// sidecar shows no disk, and the next create of that name replaces it.
func TestLocalReapRemovesOnlyRecorded(t *testing.T) {
	const id = "0b0b0b0b-0000-4000-8000-00000000000b"
	images := newFakeImages()
	img, _ := provtest.QemuImage(t, "raw", 2*mib)
	images.add(md5Image(id, "raw", img), img)
	dir, outside := t.TempDir(), t.TempDir()
	open := func() *Local {
		l, err := NewLocal(images, LocalConfig{Dir: dir}, discard())
		if err != nil {
			t.Fatal(err)
		}
		return l
	}
	dead, live := open(), open()
	deadFiles := []string{filepath.Join(dead.stage.dir, id+".src-1"), filepath.Join(dead.stage.dir, "disk-2.qcow2"),
		filepath.Join(dead.stage.dir, "disk-2.qcow2.meta.json")}
	kept := []string{filepath.Join(live.stage.dir, id+".raw-3"), // a live process's temporary
		filepath.Join(dir, "bases", id+".tmp-src-1"), filepath.Join(dir, "bases", "raw.tmp-2"),
		filepath.Join(dir, "bases", "x.tmp-hostC-1"), filepath.Join(dir, "disks", "i_disk.qcow2.tmp-local-3"),
		filepath.Join(stagingDir(dir), "plain.tmp-4"), filepath.Join(outside, "kept")}
	for _, p := range append(slices.Clone(deadFiles), kept...) {
		write(t, p)
	}
	link := filepath.Join(stagingDir(dir), "plink")
	if err := os.Symlink(outside, link); err != nil {
		t.Fatal(err)
	}
	orphan := metaPath(dead.diskPath("crash", DefaultDiskName))
	if err := os.WriteFile(orphan, []byte(`{"owner":"p9"}`), 0o640); err != nil {
		t.Fatal(err)
	}
	dead.crash()

	l := open() // the restarted node
	reaped, err := l.Reap(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range append(deadFiles, dead.stage.dir) {
		if !slices.Contains(reaped, p) || exists(p) {
			t.Errorf("%s: reaped %v, still there %v", p, slices.Contains(reaped, p), exists(p))
		}
	}
	for _, p := range append(kept, link, l.stage.dir, live.stage.dir) {
		if slices.Contains(reaped, p) || !exists(p) {
			t.Errorf("%s is not ours to reap: reaped %v, still there %v", p, slices.Contains(reaped, p), exists(p))
		}
	}
	if len(reaped) != len(deadFiles)+1 {
		t.Errorf("reaped %v, want only the dead process's staging directory", reaped)
	}

	ctx := context.Background()
	if disks, err := l.List(ctx, "crash"); err != nil || len(disks) != 0 {
		t.Fatalf("an orphan sidecar shows as disks %+v (%v)", disks, err)
	}
	d, err := l.Create(ctx, Request{InstanceID: "crash", ImageID: id, Owner: "p1"})
	if err != nil || d.Owner != "p1" {
		t.Fatalf("create over an orphan sidecar: %+v %v", d, err)
	}
	if left, _ := filepath.Glob(filepath.Join(l.stage.dir, "*")); len(left) != 0 {
		t.Fatalf("staging not empty after a create: %v", left)
	}
	// A clean shutdown leaves no staging directory to reap.
	if err := l.Close(); err != nil || exists(l.stage.dir) {
		t.Fatalf("close: %v; staging directory left: %v", err, exists(l.stage.dir))
	}
}

// A create that fails at any step leaves nothing: no base, no disk, no
// sidecar, no file in the staging directory.
func TestLocalFailureLeavesNothing(t *testing.T) {
	good, _ := provtest.QemuImage(t, "qcow2", 2*mib)
	images := newFakeImages()
	for i, c := range []struct {
		name   string
		img    Image
		data   []byte
		req    Request
		errHas string
	}{
		{"checksum mismatch", md5Image("0c0c0c0c-0000-4000-8000-000000000001", "qcow2", []byte("other")), good, Request{}, "checksum"},
		{"format lie", md5Image("0c0c0c0c-0000-4000-8000-000000000002", "raw", good), good, Request{}, "qcow2"},
		{"truncated", md5Image("0c0c0c0c-0000-4000-8000-000000000003", "qcow2", good[:len(good)/2]), good[:len(good)/2], Request{}, "corrupt or truncated"},
		{"disk too small", md5Image("0c0c0c0c-0000-4000-8000-000000000004", "qcow2", good), good, Request{SizeBytes: mib}, "smaller"},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			images.add(c.img, c.data)
			l, err := NewLocal(images, LocalConfig{Dir: dir}, discard())
			if err != nil {
				t.Fatal(err)
			}
			c.req.InstanceID, c.req.ImageID = "fail"+string(rune('a'+i)), c.img.ID
			_, err = l.Create(context.Background(), c.req)
			if err == nil || !strings.Contains(err.Error(), c.errHas) {
				t.Fatalf("err = %v, want one mentioning %q", err, c.errHas)
			}
			bases := c.name != "disk too small" // the base itself was fine
			if left := localLeftovers(dir, bases); len(left) != 0 {
				t.Fatalf("left behind: %v", left)
			}
		})
	}
}
