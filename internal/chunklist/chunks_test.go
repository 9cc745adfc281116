package chunklist_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	chunks "github.com/cowdisk/cowdisk/internal/chunklist"
	"github.com/cowdisk/cowdisk/internal/chunklist/chunkstest"
)

// sparse is size bytes of which the chunks in data (by index) hold random
// bytes in [from, to) of the chunk; the rest is zeros.
func sparse(size int64, data map[int][2]int) []byte {
	b := make([]byte, size)
	r := rand.New(rand.NewPCG(1, 2))
	for i, span := range data {
		off := int64(i) * chunks.ChunkSize
		for j := off + int64(span[0]); j < off+int64(span[1]) && j < size; j++ {
			b[j] = byte(r.IntN(255) + 1)
		}
	}
	return b
}

// want is the list as the spec states it, raw.
func want(b []byte) []byte {
	var out []byte
	for _, d := range chunkstest.List(b) {
		raw, _ := hex.DecodeString(d)
		out = append(out, raw...)
	}
	return out
}

func TestDigester(t *testing.T) {
	const mib = 1 << 20
	zero4M := sha256.Sum256(make([]byte, chunks.ChunkSize))
	for _, tc := range []struct {
		name  string
		data  []byte
		zeros []int // chunks that must carry the digest of a full zero chunk
	}{
		{"empty", nil, nil},
		{"one byte", []byte{7}, nil},
		{"one zero byte", []byte{0}, nil},
		{"sparse", sparse(5*chunks.ChunkSize, map[int][2]int{1: {0, 10}, 3: {chunks.ChunkSize - 1, chunks.ChunkSize}}), []int{0, 2, 4}},
		{"data mid-chunk after zeros", sparse(2*chunks.ChunkSize, map[int][2]int{0: {3*mib + 5, 3*mib + 9}}), []int{1}},
		{"not a multiple", sparse(3*chunks.ChunkSize+12345, map[int][2]int{0: {0, mib}, 3: {100, 200}}), []int{1, 2}},
		{"zero short tail", sparse(2*chunks.ChunkSize+777, map[int][2]int{0: {0, 1}}), []int{1}},
		{"all zeros", make([]byte, 3*chunks.ChunkSize), []int{0, 1, 2}},
	} {
		for _, step := range []int{1 << 30, mib, 65537, 4095} {
			if step < mib && len(tc.data) > 2*chunks.ChunkSize {
				continue // small writes over a large image add time, not coverage
			}
			t.Run(fmt.Sprintf("%s/%d", tc.name, step), func(t *testing.T) {
				d := chunks.NewDigester(int64(len(tc.data)))
				for b := tc.data; len(b) > 0; b = b[min(step, len(b)):] {
					d.Write(b[:min(step, len(b))])
				}
				size, got := d.Sum()
				if size != int64(len(tc.data)) || !bytes.Equal(got, want(tc.data)) {
					t.Fatalf("size %d digests %x, want %d %x", size, got, len(tc.data), want(tc.data))
				}
				if int64(len(got)) != chunks.Count(size, chunks.ChunkSize)*chunks.DigestSize {
					t.Fatalf("%d digest bytes for %d bytes", len(got), size)
				}
				if got, want := chunks.DecodeSpans(d.Spans()), chunkstest.Spans(tc.data); !slices.Equal(got, want) {
					t.Fatalf("spans %v, want %v", got, want)
				}
				for _, i := range tc.zeros {
					if !bytes.Equal(got[i*chunks.DigestSize:(i+1)*chunks.DigestSize], zero4M[:]) {
						t.Fatalf("chunk %d: not the zero-chunk digest", i)
					}
				}
				osHash := chunkstest.SHA512(tc.data)
				spec := chunkstest.Binding(len(tc.data), osHash, chunkstest.List(tc.data))
				if b := chunks.Binding(size, chunks.ChunkSize, osHash, got); b != spec {
					t.Fatalf("binding %s, spec says %s", b, spec)
				}
			})
		}
	}
}

// TestBindingEmpty pins the decision for empty images: no chunks, and the
// binding covers the header alone.
func TestBindingEmpty(t *testing.T) {
	const emptySHA512 = "cf83e1357eefb8bdf1542850d66d8007d620e4050b5715dc83f4a921d36ce9ce" +
		"47d0d13c5d85f2b0ff8318d2877eec2f63b931bd47417a81a538327af927da3e"
	d := chunks.NewDigester(0)
	size, list := d.Sum()
	if size != 0 || len(list) != 0 {
		t.Fatalf("empty stream: size %d list %x", size, list)
	}
	sum := sha256.Sum256([]byte("cowdisk-chunks-v1\n0\n4194304\n" + emptySHA512 + "\n"))
	if got := chunks.Binding(0, chunks.ChunkSize, emptySHA512, nil); got != hex.EncodeToString(sum[:]) {
		t.Fatalf("binding %s", got)
	}
}

func TestBindingNamesEverything(t *testing.T) {
	list := want(sparse(2*chunks.ChunkSize, map[int][2]int{0: {0, 9}}))
	base := chunks.Binding(2*chunks.ChunkSize, chunks.ChunkSize, "ab", list)
	swapped := append(bytes.Clone(list[chunks.DigestSize:]), list[:chunks.DigestSize]...)
	for name, other := range map[string]string{
		"size":       chunks.Binding(2*chunks.ChunkSize-1, chunks.ChunkSize, "ab", list),
		"chunk size": chunks.Binding(2*chunks.ChunkSize, 2*chunks.ChunkSize, "ab", list),
		"os hash":    chunks.Binding(2*chunks.ChunkSize, chunks.ChunkSize, "ac", list),
		"order":      chunks.Binding(2*chunks.ChunkSize, chunks.ChunkSize, "ab", swapped),
		"dropped":    chunks.Binding(2*chunks.ChunkSize, chunks.ChunkSize, "ab", list[:chunks.DigestSize]),
	} {
		if other == base {
			t.Errorf("binding does not change with the %s", name)
		}
	}
}

func BenchmarkDigester(b *testing.B) {
	data := sparse(16*chunks.ChunkSize, map[int][2]int{0: {0, chunks.ChunkSize}, 5: {0, chunks.ChunkSize}, 9: {7, 9}})
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		d := chunks.NewDigester(int64(len(data)))
		for off := 0; off < len(data); off += 1 << 20 {
			d.Write(data[off : off+1<<20])
		}
		d.Sum()
	}
}
