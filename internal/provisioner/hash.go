package provisioner

import (
	"encoding/hex"
	"hash"
	"sync"
)

// asyncHash hashes on a goroutine of its own. sha512 runs at a few hundred
// MB/s per core, about the speed of the download itself; inline, it would add
// its time to the fetch instead of overlapping with the network and the disk.
type asyncHash struct {
	h    hash.Hash
	ch   chan []byte
	done chan struct{}
	once sync.Once
}

// hashQueue bounds the bytes waiting to be hashed (chunks are the body's
// reads, 32 KiB for net/http): 256 chunks, about 8 MiB.
const hashQueue = 256

func newAsyncHash(h hash.Hash) *asyncHash {
	a := &asyncHash{h: h, ch: make(chan []byte, hashQueue), done: make(chan struct{})}
	go func() {
		defer close(a.done)
		for b := range a.ch {
			a.h.Write(b)
		}
	}()
	return a
}

// Write queues a copy of p (the caller reuses its buffer).
func (a *asyncHash) Write(p []byte) {
	a.ch <- append([]byte(nil), p...)
}

// stop ends the goroutine once everything queued is hashed; safe to repeat.
func (a *asyncHash) stop() {
	a.once.Do(func() { close(a.ch) })
	<-a.done
}

// Sum waits for the queue and returns the hex digest.
func (a *asyncHash) Sum() string {
	a.stop()
	return hex.EncodeToString(a.h.Sum(nil))
}
