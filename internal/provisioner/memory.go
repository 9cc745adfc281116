package provisioner

import (
	"fmt"

	"github.com/cowdisk/cowdisk/internal/convert"
	"github.com/cowdisk/cowdisk/internal/errs"
)

// The agent's memory during fallbacks, in the terms of the bound it keeps
// (see MemoryBound). Measured with VmHWM on the dev cluster: an idle agent
// holds 42 MiB (librados' threads, maps and messenger, Go's runtime); a cold
// import adds its transfer buffers and librbd's copies of the writes in
// flight (rbd_write copies its buffer; the agent turns librbd's cache off,
// so nothing else holds image data).
const (
	// ProcessReserve is what the agent needs beside its transfers.
	ProcessReserve = 64 << 20
	// cReserve is the part of ProcessReserve outside Go's heap (librados,
	// librbd, glibc), which a Go memory limit does not see.
	cReserve = 40 << 20
	// DefaultFetchWorkers is the writers per fetch when memory allows.
	DefaultFetchWorkers = convert.DefaultWorkers
)

// FetchBytes is the most one fetch holds with w writers of chunk bytes:
// w+2 import buffers (one read ahead of every writer, one for the reader;
// a qcow2 conversion holds w+1), librbd's copies of the w writes in flight,
// and the hash queue of the download.
func FetchBytes(w, chunk int) uint64 {
	return uint64(2*w+2)*uint64(chunk) + hashQueueBytes
}

// MemoryBound is the agent's peak resident memory during fallbacks with
// fetches at once of w writers each: independent of the image size.
func MemoryBound(fetches, w, chunk int) uint64 {
	return ProcessReserve + uint64(fetches)*FetchBytes(w, chunk)
}

// gcHeadroom is what an agent without --max-memory adds to its bound for
// Go's heap: its memory limit then sits above the transfers' live buffers
// by that much, so collections come when garbage piles up, not back to
// back. (Without any limit the heap may reach twice its live size before a
// collection: a qcow2 conversion's garbage took a 4 GiB import to 155 MiB.)
const gcHeadroom = 32 << 20

// DefaultMaxMemory is the bound of an agent that was given none: the
// default writers per fetch, plus gcHeadroom.
func DefaultMaxMemory(fetches, chunk int) uint64 {
	if fetches <= 0 {
		fetches = DefaultMaxFetches
	}
	if chunk <= 0 {
		chunk = convert.DefaultChunkSize
	}
	return MemoryBound(fetches, DefaultFetchWorkers, chunk) + gcHeadroom
}

// MemoryPlan is how an agent with a memory bound sizes its transfers.
type MemoryPlan struct {
	Workers int    // writers per fetch (imports and conversions)
	GoLimit int64  // for debug.SetMemoryLimit: max less what lives outside Go's heap
	Bound   uint64 // MemoryBound of the plan, at most max
}

// PlanMemory picks the most writers per fetch (up to DefaultFetchWorkers)
// that keep fetches at once within max bytes. A max that cannot hold even
// one writer per fetch is errs.ErrInvalid, saying what would fit.
func PlanMemory(max uint64, fetches, chunk int) (MemoryPlan, error) {
	if fetches <= 0 {
		fetches = DefaultMaxFetches
	}
	if chunk <= 0 {
		chunk = convert.DefaultChunkSize
	}
	if need := MemoryBound(fetches, 1, chunk); max < need {
		return MemoryPlan{}, fmt.Errorf("%w: max memory %d MiB is below the %d MiB needed for %d fetches at once "+
			"(%d MiB for the process, %d MiB per fetch with one writer)",
			errs.ErrInvalid, max>>20, need>>20, fetches, ProcessReserve>>20, FetchBytes(1, chunk)>>20)
	}
	w := DefaultFetchWorkers
	for w > 1 && MemoryBound(fetches, w, chunk) > max {
		w--
	}
	inC := uint64(cReserve) + uint64(fetches*w)*uint64(chunk)
	return MemoryPlan{Workers: w, GoLimit: int64(max - inC), Bound: MemoryBound(fetches, w, chunk)}, nil
}

// ApplyPlan sizes the backend's transfers by p.
func (c *RBDConfig) ApplyPlan(p MemoryPlan) {
	c.ImportWorkers = p.Workers
	c.Convert.Workers = p.Workers
}
