package chunklist

import (
	"crypto/sha256"
	"hash"

	"github.com/cowdisk/cowdisk/internal/zeros"
)

// Digester is an io.Writer that cuts the stream written to it into
// ChunkSize chunks and records each one's SHA-256. A chunk is not hashed
// while it is all zeros so far (most of a sparse image); only if data turns
// up in it are its leading zeros fed to the hash, and a chunk that stays
// zero gets the known digest of zeros. It never fails and never copies the
// data; it is not safe for concurrent use (give it its own goroutine).
type Digester struct {
	h       hash.Hash
	pos     int64 // bytes of the current chunk seen so far
	hashing bool  // the current chunk has data: h holds its bytes
	size    int64
	digests []byte
}

// NewDigester returns a Digester for a stream of about sizeHint bytes
// (-1 unknown); the hint only presizes the list.
func NewDigester(sizeHint int64) *Digester {
	d := &Digester{h: sha256.New()}
	if sizeHint > 0 {
		d.digests = make([]byte, 0, Count(sizeHint, ChunkSize)*DigestSize)
	}
	return d
}

// Write implements io.Writer.
func (d *Digester) Write(p []byte) (int, error) {
	n := len(p)
	for len(p) > 0 {
		k := min(int64(len(p)), ChunkSize-d.pos)
		d.add(p[:k])
		p = p[k:]
		if d.pos == ChunkSize {
			d.endChunk()
		}
	}
	d.size += int64(n)
	return n, nil
}

// add takes a piece that fits in the current chunk.
func (d *Digester) add(b []byte) {
	if !d.hashing && !zeros.All(b) {
		d.hashing = true
		zeros.Write(d.h, d.pos)
	}
	if d.hashing {
		d.h.Write(b)
	}
	d.pos += int64(len(b))
}

func (d *Digester) endChunk() {
	if d.hashing {
		d.digests = d.h.Sum(d.digests)
		d.h.Reset()
	} else if d.pos == ChunkSize {
		fz := fullZero()
		d.digests = append(d.digests, fz[:]...)
	} else {
		d.digests = append(d.digests, ZeroDigest(d.pos)...)
	}
	d.pos, d.hashing = 0, false
}

// Sum ends a short last chunk and returns the stream's size and its raw
// digests, DigestSize bytes per chunk in order (none for an empty stream).
// Nothing may be written after Sum.
func (d *Digester) Sum() (int64, []byte) {
	if d.pos > 0 {
		d.endChunk()
	}
	return d.size, d.digests
}
