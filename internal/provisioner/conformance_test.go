package provisioner_test

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cowdisk/cowdisk/internal/ceph"
	"github.com/cowdisk/cowdisk/internal/provisioner"
	"github.com/cowdisk/cowdisk/internal/provisioner/backendtest"
	"github.com/cowdisk/cowdisk/internal/provisioner/provtest"
	"github.com/cowdisk/cowdisk/internal/testcluster"
)

// publish is upload with the signature backendtest.Harness.Image takes.
func (s *imageService) publish(t *testing.T, format string, data []byte) string {
	return s.upload(t, format, data)
}

// The RBD backend on the dev cluster: raw images live in the cluster's own
// store (a clone of their snapshot), qcow2 ones go through the fallback.
func TestConformanceRBD(t *testing.T) {
	e := newClusterEnv(t)
	svc := e.rbdService(t)
	b := e.backend(t, svc.source(), nil)
	backendtest.Run(t, backendtest.Harness{
		Backend:   b,
		Image:     svc.publish,
		RawMethod: provisioner.MethodClone,
		Read:      func(t *testing.T, d provisioner.Disk) []byte { return e.readDisk(t, d.Pool, d.Image) },
		AssertClean: func(t *testing.T) {
			names, err := e.c.ListImages(context.Background(), e.vmsPool)
			if err != nil {
				t.Fatal(err)
			}
			var bases []string
			for _, n := range names {
				if strings.HasPrefix(n, "base_") && !ceph.IsTemp(n) {
					bases = append(bases, n)
				}
			}
			testcluster.AssertPoolClean(t, e.c, e.vmsPool, bases...)
		},
	})
}

// The local backend in a directory; every image goes through its base.
func TestConformanceLocal(t *testing.T) {
	svc := fileService(t)
	dir := t.TempDir()
	b, err := provisioner.NewLocal(svc.source(), provisioner.LocalConfig{Dir: dir}, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	backendtest.Run(t, backendtest.Harness{
		Backend:   b,
		Image:     svc.publish,
		RawMethod: provisioner.MethodBaseClone,
		Read: func(t *testing.T, d provisioner.Disk) []byte {
			out := filepath.Join(t.TempDir(), "disk.raw")
			provtest.Run(t, "qemu-img", "convert", "-q", "-O", "raw", filepath.Join(d.Pool, d.Image), out)
			return provtest.Read(t, out)
		},
		AssertClean: func(t *testing.T) {
			disks, _ := filepath.Glob(filepath.Join(dir, "disks", "*"))
			temps, _ := filepath.Glob(filepath.Join(dir, "bases", "*.tmp-*"))
			if left := append(disks, temps...); len(left) > 0 {
				t.Fatalf("left behind in %s: %v", dir, left)
			}
			if _, err := os.Stat(filepath.Join(dir, "bases")); err != nil {
				t.Fatal(err)
			}
		},
	})
}
