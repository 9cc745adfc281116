package rbdstore

import (
	"bytes"
	"fmt"
	"testing"
)

// fakeSnap counts opens and closes of snapshots.
type fakeSnap struct {
	*bytes.Reader
	closed *int
}

func (f fakeSnap) Close() error { *f.closed++; return nil }

// TestReaders: opens of one snapshot share one handle; it closes when
// idle (expire), at once when evicted unused, after its last reader when
// evicted in use; past maxReaders and after close nothing is shared.
func TestReaders(t *testing.T) {
	var rs readers
	opens, closes := 0, 0
	open := func() (source, error) {
		opens++
		return fakeSnap{bytes.NewReader([]byte("data")), &closes}, nil
	}
	get := func(key string) source {
		t.Helper()
		s, err := rs.get(key, open)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	check := func(step string, wantOpens, wantCloses int) {
		t.Helper()
		if opens != wantOpens || closes != wantCloses {
			t.Fatalf("%s: %d opens, %d closes; want %d, %d", step, opens, closes, wantOpens, wantCloses)
		}
	}
	a, b := get("x"), get("x")
	check("two readers", 1, 0)
	a.Close()
	a.Close() // a second Close of one reader releases nothing
	b.Close()
	check("both done, kept for the next", 1, 0)
	c := get("x")
	check("reused", 1, 0)
	c.Close()
	rs.expire(rs.open["x"])
	check("expired", 1, 1)
	d := get("x")
	check("opened again", 2, 1)
	rs.evict("x")
	check("evicted in use", 2, 1)
	e := get("x")
	check("a new open after the eviction", 3, 1)
	d.Close()
	check("last reader of the evicted handle", 3, 2)
	e.Close()
	rs.evict("x")
	check("evicted unused", 3, 3)

	for i := range maxReaders {
		get(fmt.Sprint(i))
	}
	full := get("one more")
	full.Close()
	check("past maxReaders: not shared, closed by its reader", 3+maxReaders+1, 4)
	rs.close()
	check("close leaves in-use handles to their readers", 3+maxReaders+1, 4)
	get("after").Close()
	check("after close: not shared", 3+maxReaders+2, 5)
}
