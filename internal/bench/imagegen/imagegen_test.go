package imagegen

import (
	"bytes"
	"compress/flate"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

func TestLayoutShape(t *testing.T) {
	tests := []struct {
		name string
		spec Spec
	}{
		{"256MiB 40%", Spec{Size: 256 << 20, DataFraction: 0.4, Seed: 1}},
		{"4GiB 40%", Spec{Size: 4 << 30, DataFraction: 0.4, Seed: 2}},
		{"64MiB 40%", Spec{Size: 64 << 20, DataFraction: 0.4, Seed: 3}},
		{"1GiB 20%", Spec{Size: 1 << 30, DataFraction: 0.2, Seed: 4}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var data, end int64
			ext := tt.spec.Layout()
			for _, e := range ext {
				if e.Off < end || e.Len <= 0 || e.Off%block != 0 || e.Off+e.Len > tt.spec.Size {
					t.Fatalf("bad extent %+v after end %d", e, end)
				}
				data += e.Len
				end = e.Off + e.Len
			}
			frac := float64(data) / float64(tt.spec.Size)
			if d := frac - tt.spec.DataFraction; d < -0.06 || d > 0.06 {
				t.Errorf("data fraction %.3f, want about %.2f", frac, tt.spec.DataFraction)
			}
			if len(ext) < 3 {
				t.Errorf("only %d data runs; want runs separated by zeros", len(ext))
			}
		})
	}
}

func TestWriteRawIsDeterministicSparseAndCompressible(t *testing.T) {
	dir := t.TempDir()
	s := Spec{Size: 16 << 20, DataFraction: 0.4, Seed: 7}
	a, b := filepath.Join(dir, "a"), filepath.Join(dir, "b")
	for _, p := range []string{a, b} {
		if err := s.WriteRaw(context.Background(), p); err != nil {
			t.Fatal(err)
		}
	}
	ba, _ := os.ReadFile(a)
	bb, _ := os.ReadFile(b)
	if int64(len(ba)) != s.Size || !bytes.Equal(ba, bb) {
		t.Fatalf("size %d, equal %v: want %d bytes, identical", len(ba), bytes.Equal(ba, bb), s.Size)
	}
	first := s.Layout()[0]
	chunk := ba[first.Off : first.Off+min(first.Len, 1<<20)]
	var z bytes.Buffer
	w, _ := flate.NewWriter(&z, flate.BestSpeed)
	w.Write(chunk)
	w.Close()
	if r := float64(z.Len()) / float64(len(chunk)); r > 0.75 || r < 0.3 {
		t.Errorf("data compresses to %.2f of its size; want compressible but not trivial", r)
	}
}

func TestWriteRawRejectsBadSpec(t *testing.T) {
	for _, s := range []Spec{{Size: 1000, DataFraction: 0.4}, {Size: 4096, DataFraction: 0}, {Size: 0, DataFraction: 0.4}} {
		if err := s.WriteRaw(context.Background(), filepath.Join(t.TempDir(), "x")); err == nil {
			t.Errorf("spec %+v accepted", s)
		}
	}
}

func TestEnsureMakesQCOW2AndReuses(t *testing.T) {
	if _, err := exec.LookPath("qemu-img"); err != nil {
		t.Skip("qemu-img not installed")
	}
	dir := t.TempDir()
	s := Spec{Size: 8 << 20, DataFraction: 0.4, Seed: 9}
	fs, err := Ensure(context.Background(), dir, s)
	if err != nil {
		t.Fatal(err)
	}
	hdr := make([]byte, 4)
	f, _ := os.Open(fs.QCOW2)
	f.Read(hdr)
	f.Close()
	if string(hdr) != "QFI\xfb" {
		t.Fatalf("qcow2 magic %q", hdr)
	}
	st1, _ := os.Stat(fs.Raw)
	if _, err := Ensure(context.Background(), dir, s); err != nil {
		t.Fatal(err)
	}
	st2, _ := os.Stat(fs.Raw)
	if !st1.ModTime().Equal(st2.ModTime()) {
		t.Error("second Ensure regenerated the raw file")
	}
}
