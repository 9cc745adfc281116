package chunklist

import "encoding/binary"

// Data spans are hints that go with a list, never part of its binding: for
// each chunk, the SpanUnit-aligned range from its first to its last unit
// holding a non-zero byte. A node fetches only that range of a data chunk
// and takes the rest as zeros; the chunk's SHA-256 (of all its bytes) is
// checked exactly as without the hint, so a lying span is a chunk that does
// not match its digest. For an image whose data runs do not line up with
// the 4 MiB chunks, this carries the data bytes and not the zeros around
// them (~0.43 of a 40%-data image instead of ~0.69).
const (
	// SpanUnit is the granularity of a span: small enough to trim most
	// zeros, large enough that finding them costs nothing next to hashing.
	SpanUnit = 64 << 10
	// SpanSize is the stored size of one span: two uint16 unit counts.
	SpanSize = 4
	// SpansQuery asks GET .../cowdisk-chunks for the spans: an older node,
	// which decodes the list strictly, gets the list without them.
	SpansQuery = "spans=1"
)

// AppendSpan appends span [lo, hi) (in SpanUnits) to b in its stored form.
func AppendSpan(b []byte, span [2]int) []byte {
	return binary.BigEndian.AppendUint32(b, uint32(span[0])<<16|uint32(span[1]))
}

// DecodeSpans turns stored spans back into pairs; nil when b is not whole
// spans.
func DecodeSpans(b []byte) [][2]int {
	if len(b)%SpanSize != 0 {
		return nil
	}
	out := make([][2]int, 0, len(b)/SpanSize)
	for i := 0; i < len(b); i += SpanSize {
		v := binary.BigEndian.Uint32(b[i:])
		out = append(out, [2]int{int(v >> 16), int(v & 0xffff)})
	}
	return out
}
