package provisioner

import (
	"crypto/sha256"
	"crypto/sha512"
	"encoding/hex"
	"slices"
	"testing"

	"github.com/cowdisk/cowdisk/internal/imageclient"
)

// listOf is the honest chunk list of data in chunks of cs bytes.
func listOf(id string, data []byte, cs int) (imageclient.ChunkList, string) {
	s := sha512.Sum512(data)
	l := imageclient.ChunkList{Version: 1, ImageID: id, Size: int64(len(data)), ChunkSize: int64(cs), Algorithm: "sha256",
		OSHashAlgo: "sha512", OSHashValue: hex.EncodeToString(s[:])}
	for off := 0; off < len(data); off += cs {
		d := sha256.Sum256(data[off:min(off+cs, len(data))])
		l.Chunks = append(l.Chunks, hex.EncodeToString(d[:]))
	}
	return l, l.OSHashValue
}

// The binding agrees with an independent implementation of the spec:
// Python's hashlib over the same bytes gave the constant (size 5 MiB + 3,
// byte i = i % 251, chunks of 4 MiB), so both sides of the transfer can
// check against it.
func TestChunkBindingVector(t *testing.T) {
	const id = "a5ced000-0000-4000-8000-000000000001"
	const want = "faa3cb0a4364b4ee45e53ef57ddb592d9e99b2cde7a0c26a24ec0770a29d79bb"
	data := make([]byte, 5<<20+3)
	for i := range data {
		data[i] = byte(i % 251)
	}
	l, osHash := listOf(id, data, 4<<20)
	img := Image{ID: id, Size: int64(len(data)), HashAlgo: "sha512", HashValue: osHash, ChunksBinding: want}
	p, err := checkChunkList(img, l)
	if err != nil {
		t.Fatal(err)
	}
	if got := p.binding(osHash); got != want {
		t.Fatalf("binding %s, want %s", got, want)
	}
}

// Zero chunks are those whose digest is that of as many zero bytes as the
// chunk holds, the short last one included; only the others are read.
func TestChunkPlanZeros(t *testing.T) {
	const id = "a5ced000-0000-4000-8000-000000000001"
	const cs = 1 << 20
	data := make([]byte, 3*cs+5) // chunks: data, zero, data, zero (5 bytes)
	data[10], data[2*cs+1] = 1, 2
	p := checkedPlan(t, id, data, cs)
	if want := []bool{false, true, false, true}; !slices.Equal(p.zero, want) {
		t.Fatalf("zero chunks %v, want %v", p.zero, want)
	}
	if got := p.dataBytes(); got != 2*cs {
		t.Fatalf("data bytes %d, want %d", got, 2*cs)
	}
}

// checkedPlan is the plan of data's honest list in chunks of cs, bound
// into its record and checked as a node checks it.
func checkedPlan(t *testing.T, id string, data []byte, cs int) *chunkPlan {
	t.Helper()
	l, osHash := listOf(id, data, cs)
	img := Image{ID: id, Size: int64(len(data)), HashAlgo: "sha512", HashValue: osHash}
	img.ChunksBinding = (&chunkPlan{size: l.Size, chunkSize: int64(cs), digests: digestsOf(t, l)}).binding(osHash)
	p, err := checkChunkList(img, l)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func digestsOf(t *testing.T, l imageclient.ChunkList) [][sha256.Size]byte {
	out := make([][sha256.Size]byte, len(l.Chunks))
	for i, c := range l.Chunks {
		if _, err := hex.Decode(out[i][:], []byte(c)); err != nil {
			t.Fatal(err)
		}
	}
	return out
}

// Buffers and cache stay within their byte budgets whatever the chunk
// size the list names, and the cache never drops below what reading ahead
// needs.
func TestSparseBounds(t *testing.T) {
	for _, c := range []struct {
		chunk                  int64
		w                      int
		reads, workers, cached int
	}{
		{4 << 20, 0, 5, 2, 6}, // the default: 4 writers, 11 chunks of budget
		{4 << 20, 4, 5, 2, 6},
		{4 << 20, 1, 2, 1, 3}, // a tight --max-memory
		{1 << 20, 4, 22, 2, 39},
		{16 << 20, 4, 1, 2, 3},
		{64 << 20, 4, 1, 2, 3},
	} {
		r, w, n := sparseBounds(c.chunk, c.w)
		if r != c.reads || w != c.workers || n != c.cached {
			t.Errorf("chunks of %d, %d writers: %d reads, %d workers, %d cached; want %d, %d and %d",
				c.chunk, c.w, r, w, n, c.reads, c.workers, c.cached)
		}
		if c.chunk == 4<<20 {
			// Within the fetch's share of the agent's bound.
			w := max(c.w, 1)
			if c.w == 0 {
				w = DefaultFetchWorkers
			}
			budget := FetchBytes(w, 4<<20)
			if raw := uint64(2*r) * uint64(c.chunk); raw > budget {
				t.Errorf("raw: %d MiB over the budget of %d MiB", raw>>20, budget>>20)
			}
			// One writer leaves room for fewer than sparseMinCache chunks: the
			// floor wins there, one chunk over.
			if q := uint64(n+2*c.workers+1) * uint64(c.chunk); c.w != 1 && q > budget {
				t.Errorf("qcow2: %d MiB over the budget of %d MiB", q>>20, budget>>20)
			}
		}
	}
}
