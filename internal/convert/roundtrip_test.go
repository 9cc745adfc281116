package convert

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/cowdisk/cowdisk/internal/imageformat"
	"github.com/cowdisk/cowdisk/internal/imageformat/imagetest"
)

// TestToRawMatchesQemuImg: every variant converts to exactly the bytes
// `qemu-img convert -O raw` produces from the same file; the formats whose
// size is rounded (qcow2 clusters, vhd CHS geometry) also at sizes just
// around a cluster boundary.
func TestToRawMatchesQemuImg(t *testing.T) {
	sizes := []int64{64<<10 - 512, 64<<10 + 512, 2<<20 + 512, 3<<20 + 4096}
	for _, size := range sizes {
		dir := t.TempDir()
		src := filepath.Join(dir, "src.raw")
		imagetest.WriteSource(t, src, size, 40, uint64(size))
		for _, v := range imagetest.Variants() {
			if size != sizes[len(sizes)-1] && v.Format != "qcow2" && v.Name != "vhd" {
				continue
			}
			t.Run(fmt.Sprintf("%s/%d", v.Name, size), func(t *testing.T) {
				t.Parallel()
				path := imagetest.Make(t, dir, src, v)
				want := filepath.Join(dir, v.Name+".want")
				imagetest.ToRaw(t, path, v.Format, want)
				got := filepath.Join(dir, v.Name+".got")
				written := convertFileTo(t, path, got, Options{ChunkSize: 64 << 10})
				virtual := assertSameFile(t, got, want)
				if written == 0 || written > virtual {
					t.Fatalf("wrote %d bytes for a %d byte disk", written, virtual)
				}
			})
		}
	}
}

// TestQCOW2ToRawFromReaderAt converts through a plain io.ReaderAt into a
// plain io.WriterAt (no files), as the provisioner does from RBD to RBD.
func TestQCOW2ToRawFromReaderAt(t *testing.T) {
	dir := t.TempDir()
	src := filepath.Join(dir, "src.raw")
	imagetest.WriteSource(t, src, 3<<20+512, 40, 7)
	path := imagetest.Make(t, dir, src, imagetest.Variant{Name: "z", Format: "qcow2", Options: []string{"-c"}})
	img := readFile(t, path)
	want := readFile(t, src)
	var dst memWriterAt
	n, err := QCOW2ToRaw(context.Background(), bytes.NewReader(img), &dst, Options{Workers: 3, ChunkSize: 128 << 10})
	if err != nil {
		t.Fatal(err)
	}
	got := dst.bytes(len(want))
	if !bytes.Equal(got, want) || n != dst.written {
		t.Fatalf("QCOW2ToRaw differs from the source (written %d, counted %d)", n, dst.written)
	}
}

func convertFileTo(t *testing.T, path, out string, o Options) uint64 {
	t.Helper()
	info, err := imageformat.InspectFile(path, imageformat.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	f, err := os.Create(out)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	o.TempDir = t.TempDir()
	n, err := ToRaw(context.Background(), path, info, f, o)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// assertSameFile fails unless both files hold the same bytes; it returns their size.
func assertSameFile(t *testing.T, got, want string) uint64 {
	t.Helper()
	g, w := readFile(t, got), readFile(t, want)
	if !bytes.Equal(g, w) {
		t.Fatalf("%s (%d bytes) differs from %s (%d bytes)", got, len(g), want, len(w))
	}
	return uint64(len(w))
}

func readFile(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
