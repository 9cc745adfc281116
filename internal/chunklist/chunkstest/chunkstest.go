// Package chunkstest states what an image's chunk list must be, computed
// the slow obvious way straight from the spec (not with package chunks'
// digester or binding), and checks the service's answers against it.
package chunkstest

import (
	"crypto/sha256"
	"crypto/sha512"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"slices"
	"testing"

	chunks "github.com/cowdisk/cowdisk/internal/chunklist"
)

// ChunkSize is the spec's: 4 MiB.
const ChunkSize = 4194304

// List is the lowercase hex SHA-256 of every ChunkSize piece of data.
func List(data []byte) []string {
	out := []string{}
	for off := 0; off < len(data); off += ChunkSize {
		sum := sha256.Sum256(data[off:min(off+ChunkSize, len(data))])
		out = append(out, hex.EncodeToString(sum[:]))
	}
	return out
}

// Spans is the data span of every ChunkSize piece of data: its first to
// one past its last 64 KiB unit that holds a non-zero byte ([0 0]: none).
func Spans(data []byte) [][2]int {
	const unit = 64 << 10
	out := [][2]int{}
	for off := 0; off < len(data); off += ChunkSize {
		c := data[off:min(off+ChunkSize, len(data))]
		sp := [2]int{}
		for u := 0; u*unit < len(c); u++ {
			if slices.ContainsFunc(c[u*unit:min((u+1)*unit, len(c))], func(b byte) bool { return b != 0 }) {
				if sp == [2]int{} {
					sp[0] = u
				}
				sp[1] = u + 1
			}
		}
		out = append(out, sp)
	}
	return out
}

// Binding is SHA-256 of "cowdisk-chunks-v1\n<size>\n<chunk size>\n<os_hash_value>\n"
// followed by the raw digests, in hex.
func Binding(size int, osHash string, list []string) string {
	in := fmt.Appendf(nil, "cowdisk-chunks-v1\n%d\n%d\n%s\n", size, ChunkSize, osHash)
	for _, d := range list {
		raw, err := hex.DecodeString(d)
		if err != nil || len(raw) != sha256.Size {
			panic("chunkstest: not a SHA-256 hex digest: " + d)
		}
		in = append(in, raw...)
	}
	sum := sha256.Sum256(in)
	return hex.EncodeToString(sum[:])
}

// SHA512 is os_hash_value of data.
func SHA512(data []byte) string {
	sum := sha512.Sum512(data)
	return hex.EncodeToString(sum[:])
}

// Check fails t unless body is the chunk list of image id holding data
// and property is its binding.
func Check(t testing.TB, id string, data []byte, property string, body []byte) {
	t.Helper()
	var got chunks.List
	if err := json.Unmarshal(body, &got); err != nil {
		t.Fatalf("chunk list of %s: %v: %.200s", id, err, body)
	}
	sh, list := SHA512(data), List(data)
	want := chunks.List{Version: 1, ImageID: id, Size: int64(len(data)), ChunkSize: ChunkSize, Algorithm: "sha256",
		OSHashAlgo: "sha512", OSHashValue: sh, Chunks: list}
	if got.Version != want.Version || got.ImageID != want.ImageID || got.Size != want.Size ||
		got.ChunkSize != want.ChunkSize || got.Algorithm != want.Algorithm || got.OSHashAlgo != want.OSHashAlgo ||
		got.OSHashValue != want.OSHashValue || got.Chunks == nil || !slices.Equal(got.Chunks, want.Chunks) {
		t.Fatalf("chunk list of %s:\n got %+v\nwant %+v", id, got, want)
	}
	if b := Binding(len(data), sh, list); property != b {
		t.Fatalf("image %s: cowdisk_chunks_sha256 %q, the spec's binding is %q", id, property, b)
	}
}
