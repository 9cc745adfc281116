package bufpool

import "testing"

func TestGetReturnsRequestedSize(t *testing.T) {
	for _, size := range []int{1, 4 << 10, 4 << 20} {
		b := Get(size)
		if len(b) != size || cap(b) != size {
			t.Fatalf("Get(%d): len %d cap %d", size, len(b), cap(b))
		}
		Put(b)
	}
}

func TestPutKeepsSizesApart(t *testing.T) {
	// A short slice of a big buffer goes back whole, to the big pool: the
	// small pool must never hand out a buffer of another size.
	big := Get(1 << 20)
	Put(big[:10])
	for range 100 {
		if b := Get(4 << 10); cap(b) != 4<<10 {
			t.Fatalf("Get(4KiB) returned a buffer of cap %d", cap(b))
		}
	}
	Put(nil) // no panic, nothing stored
}

func TestReuse(t *testing.T) {
	// sync.Pool may drop anything at a GC, so reuse is checked with
	// allocation counts: a Get after a Put of the same size allocates
	// nothing (the pool's per-P cache holds it).
	Put(Get(64 << 10))
	allocs := testing.AllocsPerRun(100, func() { Put(Get(64 << 10)) })
	if allocs > 1 { // the *[]byte header of Put may escape
		t.Fatalf("Get/Put of a reused buffer allocated %.0f times per run", allocs)
	}
}
