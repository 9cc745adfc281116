package zeros

import (
	"bytes"
	"crypto/sha256"
	"testing"
)

func TestAll(t *testing.T) {
	for _, tc := range []struct {
		name string
		p    []byte
		want bool
	}{
		{"nil", nil, true},
		{"one zero", []byte{0}, true},
		{"several pages of zeros", make([]byte, 3*len(page)+5), true},
		{"last byte set", append(make([]byte, 3*len(page)+4), 1), false},
		{"first byte set", append([]byte{1}, make([]byte, 100)...), false},
		{"set on a page edge", func() []byte { b := make([]byte, 2*len(page)); b[len(page)] = 9; return b }(), false},
	} {
		if got := All(tc.p); got != tc.want {
			t.Errorf("%s: %v", tc.name, got)
		}
	}
}

func TestWrite(t *testing.T) {
	for _, n := range []int64{0, 1, int64(len(page)), 3*int64(len(page)) + 7} {
		h := sha256.New()
		if err := Write(h, n); err != nil {
			t.Fatal(err)
		}
		want := sha256.Sum256(make([]byte, n))
		if !bytes.Equal(h.Sum(nil), want[:]) {
			t.Errorf("%d zeros: wrong bytes written", n)
		}
	}
}
