// Package chunklist computes the chunk list of cowdisk's verified sparse
// transfer (version 1): the SHA-256 of every ChunkSize piece of an image,
// and the binding that ties the list to the image's os_hash_value. The
// image service records both at upload; a node fetches the list, checks the
// binding against the image record and then fetches and verifies only the
// chunks that hold data.
package chunklist

import (
	"crypto/sha256"
	"encoding/hex"
	"strconv"
	"sync"

	"github.com/cowdisk/cowdisk/internal/zeros"
)

// Version 1 of the list: ChunkSize pieces, SHA-256 each, bound to sha512.
const (
	Version   = 1
	ChunkSize = 4 << 20
	Algorithm = "sha256"
	// Property is the read-only image property that holds the binding.
	Property = "cowdisk_chunks_sha256"
	// DigestSize is the length of one raw digest in a stored list.
	DigestSize = sha256.Size
)

// bindingPrefix starts every binding's input; the version in it keeps a
// later format from ever producing the same binding.
const bindingPrefix = "cowdisk-chunks-v1\n"

// Binding is the lowercase hex SHA-256 of
// "cowdisk-chunks-v1\n" + size + "\n" + chunkSize + "\n" + osHashValue + "\n"
// followed by the raw digests. It names size, chunk size, the whole-image
// hash and every chunk digest in order, so a list that matches it is the
// list recorded for exactly these bytes.
func Binding(size, chunkSize int64, osHashValue string, digests []byte) string {
	h := sha256.New()
	h.Write([]byte(bindingPrefix + strconv.FormatInt(size, 10) + "\n" +
		strconv.FormatInt(chunkSize, 10) + "\n" + osHashValue + "\n"))
	h.Write(digests)
	return hex.EncodeToString(h.Sum(nil))
}

// List is the answer of GET /v2/images/{id}/cowdisk-chunks. Chunks is
// left out of the JSON when nil so the service can stream the digests
// after the rest; an empty image's list has "chunks":[].
type List struct {
	Version     int    `json:"version"`
	ImageID     string `json:"image_id"`
	Size        int64  `json:"size"`
	ChunkSize   int64  `json:"chunk_size"`
	Algorithm   string `json:"algorithm"`
	OSHashAlgo  string `json:"os_hash_algo"`
	OSHashValue string `json:"os_hash_value"`
	// SpanUnit and Spans are the data spans (spans.go), sent only when
	// asked for; a node that gets none fetches whole chunks.
	SpanUnit int64    `json:"span_unit,omitempty"`
	Spans    [][2]int `json:"data_spans,omitempty"`
	Chunks   []string `json:"chunks,omitempty"`
}

// Count is how many chunks an image of size bytes has: ceil(size/chunkSize).
func Count(size, chunkSize int64) int64 {
	return (size + chunkSize - 1) / chunkSize
}

// ZeroDigest is the raw SHA-256 of n zero bytes: what a chunk of n zeros
// is recorded as.
func ZeroDigest(n int64) []byte {
	h := sha256.New()
	zeros.Write(h, n)
	return h.Sum(nil)
}

// fullZero is the digest of a whole zero chunk, computed on first use
// rather than when the package loads (every cowdisk command imports it).
var fullZero = sync.OnceValue(func() [DigestSize]byte { return [DigestSize]byte(ZeroDigest(ChunkSize)) })
