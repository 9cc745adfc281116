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
	size    int64
	digests []byte
	// span is the current chunk's data span in SpanUnits: first and one
	// past the last unit holding a non-zero byte ([0 0]: none yet, and
	// then nothing is hashed; once it has data, h holds all its bytes).
	span  [2]int
	spans []byte // SpanSize bytes per chunk (EncodeSpan)
}

// NewDigester returns a Digester for a stream of about sizeHint bytes
// (-1 unknown); the hint only presizes the list.
func NewDigester(sizeHint int64) *Digester {
	d := &Digester{h: sha256.New()}
	if sizeHint > 0 {
		d.digests = make([]byte, 0, Count(sizeHint, ChunkSize)*DigestSize)
		d.spans = make([]byte, 0, Count(sizeHint, ChunkSize)*SpanSize)
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
	had := d.hasData()
	d.markData(b)
	if !had && d.hasData() { // the zeros before it go to the hash now
		zeros.Write(d.h, d.pos)
	}
	if d.hasData() {
		d.h.Write(b)
	}
	d.pos += int64(len(b))
}

// hasData: a unit of the current chunk so far holds a non-zero byte.
func (d *Digester) hasData() bool { return d.span[1] != 0 }

// markData widens the chunk's span by the units of b (at d.pos) that hold
// data. Only the units past the span's end are looked at: once a unit
// holds data, the units before it are inside the span anyway.
func (d *Digester) markData(b []byte) {
	for off := int64(0); off < int64(len(b)); {
		u := int((d.pos + off) / SpanUnit)
		end := min(int64(len(b)), int64(u+1)*SpanUnit-d.pos)
		if u >= d.span[1] && !zeros.All(b[off:end]) {
			if !d.hasData() {
				d.span[0] = u
			}
			d.span[1] = u + 1
		}
		off = end
	}
}

func (d *Digester) endChunk() {
	if d.hasData() {
		d.digests = d.h.Sum(d.digests)
		d.h.Reset()
	} else if d.pos == ChunkSize {
		fz := fullZero()
		d.digests = append(d.digests, fz[:]...)
	} else {
		d.digests = append(d.digests, ZeroDigest(d.pos)...)
	}
	d.spans = AppendSpan(d.spans, d.span)
	d.pos, d.span = 0, [2]int{}
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

// Spans is every chunk's data span (AppendSpan's encoding, in order);
// call it after Sum.
func (d *Digester) Spans() []byte { return d.spans }
