package ceph

import "bytes"

// zeroPage is compared against in slices: bytes.Equal is memcmp, far
// faster than a byte loop, and the page is small enough to stay in cache.
var zeroPage [64 << 10]byte

// allZero reports whether p holds only zero bytes. Such buffers are not
// written at all: an unwritten RBD extent reads as zeros and takes no space
// (glance_store's thin provisioning).
func allZero(p []byte) bool {
	for len(p) > 0 {
		n := min(len(p), len(zeroPage))
		if !bytes.Equal(p[:n], zeroPage[:n]) {
			return false
		}
		p = p[n:]
	}
	return true
}
