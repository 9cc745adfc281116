package ceph

import "github.com/cowdisk/cowdisk/internal/zeros"

// All-zero ranges of a buffer are not written at all: an unwritten RBD
// extent reads as zeros and takes no space (glance_store's thin
// provisioning).
const (
	// sparseBlock is the unit of zero detection inside a buffer, the
	// default sparse size of `rbd import` and a disk's sector cluster.
	sparseBlock = 4 << 10
	// minZeroGap is the shortest zero run worth a separate write: shorter
	// gaps are written along, which bounds a 4 MiB buffer to 64 writes even
	// for data that alternates zero and non-zero blocks.
	minZeroGap = 64 << 10
)

// run is a half-open byte range [start, end) of a buffer.
type run struct{ start, end int }

// dataRuns returns the ranges of p that hold data, at sparseBlock
// granularity, merging ranges separated by less than minZeroGap.
func dataRuns(p []byte) []run {
	var out []run
	for off := 0; off < len(p); off += sparseBlock {
		end := min(off+sparseBlock, len(p))
		if zeros.All(p[off:end]) {
			continue
		}
		if n := len(out); n > 0 && off-out[n-1].end < minZeroGap {
			out[n-1].end = end
			continue
		}
		out = append(out, run{off, end})
	}
	return out
}
