// Package imagetest makes real disk images with qemu-img for the tests of
// imageformat and convert, so both test the same images the same way.
package imagetest

import (
	"encoding/json"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// QemuImg is the qemu-img the tests use (installed by `make test`).
const QemuImg = "/usr/bin/qemu-img"

// Run runs qemu-img with args and fails the test on error.
func Run(t testing.TB, args ...string) string {
	t.Helper()
	out, err := exec.Command(QemuImg, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("qemu-img %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

// WriteSource writes a sparse raw disk of size bytes at path: runs of data
// (half random, half repetitive text, so compression behaves as on a real
// disk) separated by holes, with dataPercent of the bytes in data runs.
func WriteSource(t testing.TB, path string, size int64, dataPercent int, seed uint64) {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := f.Truncate(size); err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	const avgRun = 256 << 10
	for off := int64(0); off < size; {
		run := min(size-off, 512+rng.Int64N(2*avgRun))
		if rng.IntN(100) < dataPercent {
			if _, err := f.WriteAt(data(rng, int(run)), off); err != nil {
				t.Fatal(err)
			}
		}
		off += run
	}
	// A last non-zero byte makes the size visible through every format.
	if _, err := f.WriteAt([]byte{0xa5}, size-1); err != nil {
		t.Fatal(err)
	}
}

func data(rng *rand.Rand, n int) []byte {
	b := make([]byte, n)
	text := []byte("cowdisk boot disk block; lorem ipsum dolor sit amet ")
	for i := range b {
		if (i/4096)%2 == 0 {
			b[i] = byte(rng.Uint32())
		} else {
			b[i] = text[i%len(text)]
		}
	}
	return b
}

// Variant is one way to store a disk image.
type Variant struct {
	Name    string   // test name
	Format  string   // qemu-img -O format
	Options []string // extra qemu-img convert arguments (-o ..., -c)
}

// Variants is every format and option the round-trip tests cover.
func Variants() []Variant {
	return []Variant{
		{"raw", "raw", nil},
		{"qcow2", "qcow2", nil},
		{"qcow2-v2", "qcow2", []string{"-o", "compat=0.10"}},
		{"qcow2-512", "qcow2", []string{"-o", "cluster_size=512"}},
		{"qcow2-2M", "qcow2", []string{"-o", "cluster_size=2M"}},
		{"qcow2-zlib", "qcow2", []string{"-c"}},
		{"qcow2-zstd", "qcow2", []string{"-c", "-o", "compression_type=zstd"}},
		{"qcow2-zstd-4k", "qcow2", []string{"-c", "-o", "compression_type=zstd,cluster_size=4096"}},
		{"qcow2-extl2", "qcow2", []string{"-o", "extended_l2=on"}},
		{"vmdk", "vmdk", nil},
		{"vmdk-stream", "vmdk", []string{"-o", "subformat=streamOptimized"}},
		{"vhd", "vpc", nil},
		{"vhd-fixed", "vpc", []string{"-o", "subformat=fixed"}},
		{"vhdx", "vhdx", nil},
		{"vdi", "vdi", nil},
		{"vdi-fixed", "vdi", []string{"-o", "static=on"}},
	}
}

// Make converts the raw source into variant v in dir and returns its path.
func Make(t testing.TB, dir, src string, v Variant) string {
	t.Helper()
	out := filepath.Join(dir, v.Name+"."+v.Format)
	args := append([]string{"convert", "-f", "raw", "-O", v.Format}, v.Options...)
	Run(t, append(args, src, out)...)
	return out
}

// Info is what `qemu-img info` says about an image.
type Info struct {
	VirtualSize uint64 `json:"virtual-size"`
	Format      string `json:"format"`
}

// Inspect runs `qemu-img info -f format`.
func Inspect(t testing.TB, path, format string) Info {
	t.Helper()
	var info Info
	if err := json.Unmarshal([]byte(Run(t, "info", "--output=json", "-f", format, path)), &info); err != nil {
		t.Fatal(err)
	}
	return info
}

// ToRaw converts an image to raw with qemu-img: the reference bytes.
func ToRaw(t testing.TB, path, format, out string) {
	t.Helper()
	Run(t, "convert", "-f", format, "-O", "raw", path, out)
}
