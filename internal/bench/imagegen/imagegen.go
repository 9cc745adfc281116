// Package imagegen writes the benchmark's test images: sparse raw files whose
// data sits in runs of a few MiB separated by zero runs (as an installed OS
// disk looks), and qcow2 copies of them made by qemu-img.
//
// Uniform noise would be the wrong test: it defeats the zero-skipping that
// every path (rbd import, qemu-img, cowdisk's thin import) relies on, and
// it makes compression look useless. The data bytes here come from a 16-symbol
// alphabet, so they are pseudo-random but compress about 2:1.
package imagegen

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// Spec names one image to generate.
type Spec struct {
	Size         int64   // virtual size in bytes; a multiple of 4 KiB
	DataFraction float64 // share of the size holding data, e.g. 0.4
	Seed         uint64  // same seed, same bytes
}

const (
	block       = 4 << 10 // data and zero runs are whole 4 KiB sectors
	minDataRun  = 1 << 20
	maxDataRun  = 8 << 20
	minGap      = 64 << 10 // a qcow2 cluster: no run shares one with the next
	writeBuffer = 1 << 20
)

// Name is the file name (without extension) that encodes everything the
// content depends on, so a cached file is reused only when it is identical.
func (s Spec) Name() string {
	return fmt.Sprintf("img-%d-d%02.0f-s%d", s.Size, s.DataFraction*100, s.Seed)
}

// Extent is a run of data bytes in the raw image.
type Extent struct{ Off, Len int64 }

// Layout returns the data runs of the image, sorted and non-overlapping.
// It is separate from writing so tests can check the shape cheaply.
func (s Spec) Layout() []Extent {
	rng := rand.New(rand.NewPCG(s.Seed, 0x636f776469736b)) // "cowdisk"
	var out []Extent
	var data int64
	for off := int64(0); off < s.Size; {
		n := min(roundBlock(minDataRun+rng.Int64N(maxDataRun-minDataRun)), s.Size-off)
		out = append(out, Extent{off, n})
		data += n
		off += n
		// The gap brings the running share back to the target (so small
		// images with few runs still hit it), jittered by ±50% of the mean
		// gap so runs do not fall on a fixed stride.
		mean := float64(n) * (1 - s.DataFraction) / s.DataFraction
		gap := float64(data)/s.DataFraction - float64(off) + mean*(rng.Float64()-0.5)
		off += roundBlock(max(int64(gap), minGap))
	}
	return out
}

func roundBlock(n int64) int64 { return max(block, n/block*block) }

// WriteRaw writes the raw image to path (sparse: zero runs are holes).
func (s Spec) WriteRaw(ctx context.Context, path string) error {
	if s.Size <= 0 || s.Size%block != 0 || s.DataFraction <= 0 || s.DataFraction > 1 {
		return fmt.Errorf("image spec %+v: size must be a positive multiple of 4 KiB and data fraction in (0,1]", s)
	}
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("create %s: %w", path, err)
	}
	defer f.Close()
	if err := f.Truncate(s.Size); err != nil {
		return fmt.Errorf("size %s: %w", path, err)
	}
	src := rand.NewChaCha8(seed32(s.Seed))
	buf := make([]byte, writeBuffer)
	for _, e := range s.Layout() {
		for done := int64(0); done < e.Len; {
			if err := ctx.Err(); err != nil {
				return err
			}
			p := buf[:min(int64(len(buf)), e.Len-done)]
			fill(src, p)
			if _, err := f.WriteAt(p, e.Off+done); err != nil {
				return fmt.Errorf("write %s: %w", path, err)
			}
			done += int64(len(p))
		}
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("close %s: %w", path, err)
	}
	return nil
}

// fill puts random bytes from the alphabet '@'..'O' into p. That alphabet has
// no byte of any format magic (QFI\xfb, conectix, KDMV, CD001, ...), so a raw
// test image can never be mistaken for another format by an inspector.
func fill(src *rand.ChaCha8, p []byte) {
	_, _ = src.Read(p) // ChaCha8.Read never fails
	for i := range p {
		p[i] = 0x40 | p[i]&0x0f
	}
}

func seed32(s uint64) [32]byte {
	var b [32]byte
	for i := range 8 {
		b[i] = byte(s >> (8 * i))
	}
	return b
}

// Files are the generated images of one Spec.
type Files struct{ Raw, QCOW2 string }

// Ensure generates the raw and qcow2 files of s in dir, reusing files left by
// an earlier run (generation of 4 GiB costs more than a benchmark rep).
func Ensure(ctx context.Context, dir string, s Spec) (Files, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return Files{}, fmt.Errorf("image dir: %w", err)
	}
	fs := Files{Raw: filepath.Join(dir, s.Name()+".raw"), QCOW2: filepath.Join(dir, s.Name()+".qcow2")}
	if err := ensureFile(fs.Raw, func(tmp string) error { return s.WriteRaw(ctx, tmp) }); err != nil {
		return Files{}, err
	}
	err := ensureFile(fs.QCOW2, func(tmp string) error { return ConvertQCOW2(ctx, fs.Raw, tmp) })
	if err != nil {
		return Files{}, err
	}
	return fs, nil
}

// ensureFile runs make into a temporary name and renames it into place, so a
// run killed mid-generation never leaves a truncated file that looks done.
func ensureFile(path string, make func(tmp string) error) error {
	if _, err := os.Stat(path); err == nil {
		return nil
	}
	tmp := path + ".tmp"
	if err := make(tmp); err != nil {
		os.Remove(tmp)
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("rename %s: %w", tmp, err)
	}
	return nil
}

// ConvertQCOW2 makes a qcow2 copy of a raw file with qemu-img, the way users
// make their images.
func ConvertQCOW2(ctx context.Context, raw, dst string) error {
	cmd := exec.CommandContext(ctx, "qemu-img", "convert", "-f", "raw", "-O", "qcow2", raw, dst)
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("qemu-img convert %s to qcow2: %w: %s", raw, err, strings.TrimSpace(string(out)))
	}
	return nil
}
