package ceph

import (
	"encoding/binary"
	"maps"
	"slices"
)

// Ceph's wire encoding of the few cls_rbd arguments cowdisk sends itself: a
// string is a little-endian u32 length and the bytes; a map is a u32 count
// and its pairs (a bufferlist value is encoded like a string).

func encodeString(b []byte, s string) []byte {
	b = binary.LittleEndian.AppendUint32(b, uint32(len(s)))
	return append(b, s...)
}

// encodeStringMap encodes kv as map<string, bufferlist>, keys in order
// (std::map's).
func encodeStringMap(kv map[string]string) []byte {
	b := binary.LittleEndian.AppendUint32(nil, uint32(len(kv)))
	for _, k := range slices.Sorted(maps.Keys(kv)) {
		b = encodeString(encodeString(b, k), kv[k])
	}
	return b
}

// decodeString decodes one string from b and returns the rest.
func decodeString(b []byte) (s string, rest []byte, ok bool) {
	if len(b) < 4 {
		return "", b, false
	}
	n := binary.LittleEndian.Uint32(b)
	if uint64(len(b)-4) < uint64(n) {
		return "", b, false
	}
	return string(b[4 : 4+n]), b[4+n:], true
}
