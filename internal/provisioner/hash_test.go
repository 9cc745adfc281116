package provisioner

import (
	"crypto/sha256"
	"encoding/hex"
	"hash"
	"math/rand/v2"
	"testing"

	"go.uber.org/goleak"
)

// bufferSpy is a hash that records the buffers it is handed, so the test
// can count the memory that ever held bytes waiting for the hasher.
type bufferSpy struct {
	hash.Hash
	seen    map[*byte]bool
	longest int
}

func (s *bufferSpy) Write(p []byte) (int, error) {
	if len(p) > 0 {
		s.seen[&p[:cap(p)][cap(p)-1]] = true
	}
	s.longest = max(s.longest, len(p))
	return s.Hash.Write(p)
}

func TestAsyncHashBoundedAndExact(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	rng := rand.New(rand.NewPCG(1, 2))
	data := make([]byte, 24<<20)
	for i := range data {
		data[i] = byte(rng.Uint32())
	}
	want := sha256.Sum256(data)
	// Writes as a download makes them: tiny, a net/http read, bigger than
	// a buffer, an import chunk (which used to be queued whole).
	for _, sizes := range [][]int{{1}, {32 << 10}, {hashBufSize + 3}, {4 << 20}, {7, 1 << 20, 4 << 20, 100}} {
		spy := &bufferSpy{Hash: sha256.New(), seen: map[*byte]bool{}}
		a := newAsyncHash(spy)
		for off, i := 0, 0; off < len(data); i++ {
			n := min(sizes[i%len(sizes)], len(data)-off)
			a.Write(data[off : off+n])
			off += n
		}
		if got := a.Sum(); got != hex.EncodeToString(want[:]) {
			t.Fatalf("writes of %v: digest %s, want %x", sizes, got, want)
		}
		if len(spy.seen) > hashBufs || spy.longest > hashBufSize {
			t.Fatalf("writes of %v: %d buffers of up to %d bytes held data for the hasher, want at most %d of %d",
				sizes, len(spy.seen), spy.longest, hashBufs, hashBufSize)
		}
		a.stop() // repeating is harmless
	}
}
