// Package chunks computes the chunk list of cowdisk's verified sparse
// transfer (version 1): the SHA-256 of every ChunkSize piece of an image,
// and the binding that ties the list to the image's os_hash_value. The
// image service records both at upload; a node fetches the list, checks the
// binding against the image record and then fetches and verifies only the
// chunks that hold data.
package chunks

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"strconv"
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

// Count is how many chunks an image of size bytes has: ceil(size/chunkSize).
func Count(size, chunkSize int64) int64 {
	return (size + chunkSize - 1) / chunkSize
}

// zeros is compared against, never written: zero detection without a copy.
var zeros = make([]byte, 64<<10)

// isZero reports whether b holds only zero bytes. bytes.Equal runs the
// runtime's vectorised memequal, many times faster than hashing.
func isZero(b []byte) bool {
	for len(b) > 0 {
		n := min(len(b), len(zeros))
		if !bytes.Equal(b[:n], zeros[:n]) {
			return false
		}
		b = b[n:]
	}
	return true
}

// ZeroDigest is the raw SHA-256 of n zero bytes: what a chunk of n zeros
// is recorded as.
func ZeroDigest(n int64) []byte {
	if n == ChunkSize {
		return bytes.Clone(fullZero[:])
	}
	return zeroDigest(n)
}

func zeroDigest(n int64) []byte {
	h := sha256.New()
	writeZeros(h, n)
	return h.Sum(nil)
}

var fullZero = [DigestSize]byte(zeroDigest(ChunkSize))

func writeZeros(w io.Writer, n int64) {
	for n > 0 {
		k := min(n, int64(len(zeros)))
		w.Write(zeros[:k])
		n -= k
	}
}
