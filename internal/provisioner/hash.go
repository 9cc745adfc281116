package provisioner

import (
	"encoding/hex"
	"hash"
	"sync"

	"github.com/cowdisk/cowdisk/internal/bufpool"
)

// asyncHash hashes on a goroutine of its own. sha512 runs at a few hundred
// MB/s per core, about the speed of the download itself; inline, it would add
// its time to the fetch instead of overlapping with the network and the disk.
//
// What waits to be hashed is bounded in bytes, not in reads: the bytes are
// copied into hashBufs pooled buffers of hashBufSize, and Write blocks while
// all of them are full. (A queue of 256 copies of whatever each read returned
// held up to 256 reads of up to 4 MiB, the import's chunk, whenever the
// download outran the hasher: that was most of a 1.4 GiB agent.)
type asyncHash struct {
	h    hash.Hash
	full chan []byte // filled buffers, in stream order
	free chan []byte // buffers the hasher is done with
	cur  []byte      // the buffer being filled; nil when none is taken
	done chan struct{}
	once sync.Once
}

const (
	hashBufSize = 1 << 20
	hashBufs    = 4
	// hashQueueBytes is the most a download holds for its hasher.
	hashQueueBytes = hashBufSize * hashBufs
)

func newAsyncHash(h hash.Hash) *asyncHash {
	a := &asyncHash{h: h, full: make(chan []byte, hashBufs), free: make(chan []byte, hashBufs), done: make(chan struct{})}
	for range hashBufs {
		a.free <- bufpool.Get(hashBufSize)[:0]
	}
	go func() {
		defer close(a.done)
		for b := range a.full {
			a.h.Write(b)
			a.free <- b[:0]
		}
	}()
	return a
}

// Write copies p for the hasher (the caller reuses its buffer), waiting for
// a free buffer when the hasher is behind by hashQueueBytes.
func (a *asyncHash) Write(p []byte) {
	for len(p) > 0 {
		if a.cur == nil {
			a.cur = <-a.free
		}
		n := copy(a.cur[len(a.cur):cap(a.cur)], p)
		a.cur, p = a.cur[:len(a.cur)+n], p[n:]
		if len(a.cur) == cap(a.cur) {
			a.full <- a.cur
			a.cur = nil
		}
	}
}

// stop hashes what is queued, ends the goroutine and returns the buffers to
// the pool; safe to repeat.
func (a *asyncHash) stop() {
	a.once.Do(func() {
		if len(a.cur) > 0 {
			a.full <- a.cur
		}
		a.cur = nil
		close(a.full)
		<-a.done
		close(a.free)
		for b := range a.free {
			bufpool.Put(b)
		}
	})
}

// Sum waits for the queue and returns the hex digest.
func (a *asyncHash) Sum() string {
	a.stop()
	return hex.EncodeToString(a.h.Sum(nil))
}
