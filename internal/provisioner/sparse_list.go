package provisioner

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"

	"github.com/cowdisk/cowdisk/internal/chunklist"
	"github.com/cowdisk/cowdisk/internal/errs"
	"github.com/cowdisk/cowdisk/internal/imageclient"
)

// The verified sparse transfer (cowdisk-chunks v1) trusts the image record
// exactly as far as the whole-stream download does: the record's
// os_hash_value names the bytes, its cowdisk_chunks_sha256 property (which
// no user may set) names the chunk list through the binding below, the
// binding includes the size and os_hash_value, and every chunk is checked
// against its digest before a byte of it is used. A list that does not
// hash to the record's binding is refused whole, so a service cannot mark a
// data chunk as zero, reorder chunks or change their size.

// Bounds of a chunk list the node accepts.
const (
	minChunkSize = 1 << 20
	maxChunkSize = 64 << 20
	// chunkListBytes bounds the JSON of a list per chunk of the smallest
	// size (a quoted 64-digit entry and a comma, with room for spacing),
	// plus the fixed members.
	chunkListBytesPerChunk = 88 // and its data span, "[lo,hi],"
	chunkListBytesFixed    = 1024
)

// maxChunkListBytes bounds the list of an image of size bytes.
func maxChunkListBytes(size int64) int64 {
	return chunkListBytesFixed + chunkListBytesPerChunk*((size+minChunkSize-1)/minChunkSize)
}

// chunkPlan is a chunk list checked against the image record.
type chunkPlan struct {
	id              string
	size, chunkSize int64
	digests         [][sha256.Size]byte
	zero            []bool // the chunk's digest is that of all zero bytes
	// data is each chunk's data span, [lo, hi) bytes within it, from the
	// service's hints; nil without hints (every chunk is fetched whole).
	data [][2]int
}

// dataSpan is the part of chunk i to fetch, [lo, hi) bytes within it:
// the rest is zeros, or the chunk does not match its digest.
func (p *chunkPlan) dataSpan(i int) (lo, hi int) {
	_, n := p.span(i)
	if p.data == nil {
		return 0, n
	}
	return min(p.data[i][0], n), min(p.data[i][1], n)
}

// count is the number of chunks.
func (p *chunkPlan) count() int { return len(p.digests) }

// span is chunk i's offset and length.
func (p *chunkPlan) span(i int) (int64, int) {
	off := int64(i) * p.chunkSize
	return off, int(min(p.chunkSize, p.size-off))
}

// checkChunkList refuses a list that is not the one the record binds
// (errs.ErrChecksum and errs.ErrRefused: 422, the image as served cannot be
// used). The record itself was checked by checkRecord.
func checkChunkList(img Image, l imageclient.ChunkList) (*chunkPlan, error) {
	refuse := func(format string, args ...any) error {
		return fmt.Errorf("image %s: chunk list refused: %s: %w: %w", img.ID, fmt.Sprintf(format, args...), errs.ErrChecksum, errs.ErrRefused)
	}
	n := int64(0)
	if l.ChunkSize > 0 {
		n = chunklist.Count(l.Size, l.ChunkSize)
	}
	switch {
	case l.Version != 1:
		return nil, refuse("version %d, not 1", l.Version)
	case l.ImageID != img.ID:
		return nil, refuse("it is the list of image %s", quoteBounded(l.ImageID))
	case l.Size != img.Size:
		return nil, refuse("size %d, the record says %d", l.Size, img.Size)
	case !strings.EqualFold(img.HashAlgo, "sha512") || !strings.EqualFold(l.OSHashAlgo, "sha512"):
		return nil, refuse("os_hash_algo %s (record %s), not sha512", quoteBounded(l.OSHashAlgo), quoteBounded(img.HashAlgo))
	case !strings.EqualFold(l.OSHashValue, img.HashValue):
		return nil, refuse("os_hash_value differs from the record's")
	case l.Algorithm != "sha256":
		return nil, refuse("algorithm %s, not sha256", quoteBounded(l.Algorithm))
	case l.ChunkSize < minChunkSize || l.ChunkSize > maxChunkSize || l.ChunkSize&(l.ChunkSize-1) != 0:
		return nil, refuse("chunk_size %d is not a power of two from 1 MiB to 64 MiB", l.ChunkSize)
	case int64(len(l.Chunks)) != n:
		return nil, refuse("%d chunks, %d bytes in chunks of %d make %d", len(l.Chunks), l.Size, l.ChunkSize, n)
	}
	p := &chunkPlan{id: img.ID, size: l.Size, chunkSize: l.ChunkSize,
		digests: make([][sha256.Size]byte, n), zero: make([]bool, n)}
	for i, c := range l.Chunks {
		if len(c) != 2*sha256.Size || strings.ToLower(c) != c {
			return nil, refuse("chunk %d: %s is not a lower-case SHA-256 in hex", i, quoteBounded(c))
		}
		if _, err := hex.Decode(p.digests[i][:], []byte(c)); err != nil {
			return nil, refuse("chunk %d: %s is not a lower-case SHA-256 in hex", i, quoteBounded(c))
		}
	}
	if got := p.binding(strings.ToLower(img.HashValue)); got != strings.ToLower(img.ChunksBinding) {
		return nil, refuse("the list hashes to %s, the record's %s is %s", got, imageclient.ChunksProperty, quoteBounded(img.ChunksBinding))
	}
	var err error
	if p.data, err = checkSpans(l, n); err != nil {
		return nil, refuse("%v", err)
	}
	full, last := zeroDigest(int(p.chunkSize)), zeroDigest(p.lastLen())
	for i := range p.zero {
		z := full
		if i == len(p.zero)-1 {
			z = last
		}
		p.zero[i] = p.digests[i] == z
	}
	return p, nil
}

// binding is the value the record's cowdisk_chunks_sha256 must hold.
func (p *chunkPlan) binding(osHashValue string) string {
	raw := make([]byte, 0, len(p.digests)*sha256.Size)
	for _, d := range p.digests {
		raw = append(raw, d[:]...)
	}
	return chunklist.Binding(p.size, p.chunkSize, osHashValue, raw)
}

// dataBytes is what the transfer reads: the data spans of the non-zero
// chunks.
func (p *chunkPlan) dataBytes() int64 {
	var n int64
	for i, z := range p.zero {
		if !z {
			lo, hi := p.dataSpan(i)
			n += int64(hi - lo)
		}
	}
	return n
}

// checkSpans turns the list's data spans (hints: a lie only makes a chunk
// fail its digest) into byte ranges, refusing ones no honest service sends.
func checkSpans(l imageclient.ChunkList, n int64) ([][2]int, error) {
	if l.Spans == nil && l.SpanUnit == 0 {
		return nil, nil
	}
	u := l.SpanUnit
	if u < 4096 || u > l.ChunkSize || u&(u-1) != 0 || int64(len(l.Spans)) != n {
		return nil, fmt.Errorf("%d data spans of %d bytes for %d chunks of %d", len(l.Spans), u, n, l.ChunkSize)
	}
	units := int(l.ChunkSize / u)
	out := make([][2]int, n)
	for i, s := range l.Spans {
		if s[0] < 0 || s[0] > s[1] || s[1] > units {
			return nil, fmt.Errorf("chunk %d: data span %v is not within its %d units", i, s, units)
		}
		out[i] = [2]int{s[0] * int(u), s[1] * int(u)}
	}
	return out, nil
}

func (p *chunkPlan) lastLen() int {
	_, n := p.span(p.count() - 1)
	return n
}

// zeroDigest is the SHA-256 of n zero bytes.
func zeroDigest(n int) [sha256.Size]byte { return [sha256.Size]byte(chunklist.ZeroDigest(int64(n))) }
