package provisioner_test

import (
	"bytes"
	"context"
	"net/http"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cowdisk/cowdisk/internal/provisioner"
	"github.com/cowdisk/cowdisk/internal/provisioner/provtest"
)

// The local backend takes the sparse transfer too: its base file holds the
// image (raw, or qcow2 converted from the service), nothing comes by the
// whole-stream download, and a lying service leaves no file behind.
func TestSparseLocal(t *testing.T) {
	raw := sparseData(6*chunkSize + 99)
	qcow, qcowRaw := qcow2Of(t, sparseData(9*chunkSize), false)
	for _, c := range []struct {
		format    string
		img, want []byte
	}{{"raw", raw, raw}, {"qcow2", qcow, qcowRaw}} {
		t.Run(c.format, func(t *testing.T) {
			s := newChunkService(t)
			s.serve(askedID, c.format, c.img, nil)
			l, err := provisioner.NewLocal(s.source(t), provisioner.LocalConfig{Dir: t.TempDir()}, discardLog())
			if err != nil {
				t.Fatal(err)
			}
			d, err := l.Create(context.Background(), provisioner.Request{InstanceID: "sp-local", ImageID: askedID})
			if err != nil {
				t.Fatal(err)
			}
			out := filepath.Join(t.TempDir(), "out.raw")
			provtest.Run(t, "qemu-img", "convert", "-q", "-O", "raw", filepath.Join(d.Pool, d.Image), out)
			if got := provtest.Read(t, out); len(got) < len(c.want) || !bytes.Equal(got[:len(c.want)], c.want) {
				t.Fatalf("disk (%d bytes) differs from the image (%d bytes)", len(got), len(c.want))
			}
			if w, r := s.wholes.Load(), s.ranges.Load(); w != 0 || r == 0 {
				t.Fatalf("%d whole downloads, %d ranged reads; want none and some", w, r)
			}
		})
	}
	t.Run("lying service", func(t *testing.T) {
		for _, c := range []struct {
			format string
			img    []byte
			at     int
		}{{"raw", raw, chunkSize + 7}, {"qcow2", qcow, 2*chunkSize + 100}} {
			s := newChunkService(t)
			s.serve(askedID, c.format, c.img, func(si *servedImage) {
				si.data = bytes.Clone(c.img)
				si.data[c.at] ^= 1
			})
			refusedLocal(t, s.source(t), "does not match its SHA-256")
		}
	})
}

// refusedLocal creates a disk of askedID from src on a new local backend,
// through the agent, and expects a 422 whose message has want, with no
// base or disk file left.
func refusedLocal(t *testing.T, src provisioner.ImageSource, want string) {
	t.Helper()
	dir := t.TempDir()
	l, err := provisioner.NewLocal(src, provisioner.LocalConfig{Dir: dir}, discardLog())
	if err != nil {
		t.Fatal(err)
	}
	url, _ := nodeAgent(t, l)
	code, body := call(t, context.Background(), "POST", url+"/v1/disks", createBody("refused", askedID, ""))
	if code != http.StatusUnprocessableEntity || !strings.Contains(body, want) {
		t.Fatalf("%d %s; want 422 saying %q", code, body, want)
	}
	if left := provisioner.LocalLeftovers(dir, true); len(left) != 0 {
		t.Fatalf("left behind: %v", left)
	}
}
