// Package bufpool reuses the large byte buffers of imports, conversions and
// hashing. Allocating them afresh for every image (or, worse, for every read)
// turns the whole image into garbage, and Go's GC pacer then lets the heap
// grow to about twice its live size before collecting: the agent's peak
// memory followed the image size. Buffers taken from here are returned when
// a transfer ends and reused by the next one; an idle process gives them
// back to the GC (sync.Pool drops what two collections found unused).
package bufpool

import "sync"

// pools holds one sync.Pool per buffer size.
var pools sync.Map // int -> *sync.Pool

func poolFor(size int) *sync.Pool {
	if p, ok := pools.Load(size); ok {
		return p.(*sync.Pool)
	}
	p, _ := pools.LoadOrStore(size, &sync.Pool{New: func() any {
		b := make([]byte, size)
		return &b
	}})
	return p.(*sync.Pool)
}

// Get returns a buffer of len size (contents undefined).
func Get(size int) []byte {
	return (*poolFor(size).Get().(*[]byte))[:size]
}

// Put gives b back for reuse. Only the full buffer Get returned should come
// back; a buffer of another capacity goes to the pool of that capacity.
func Put(b []byte) {
	if cap(b) == 0 {
		return
	}
	b = b[:cap(b)]
	poolFor(cap(b)).Put(&b)
}
