package rbdloc

import (
	"errors"
	"testing"

	"github.com/cowdisk/cowdisk/internal/errs"
)

// FuzzParse checks that Parse never panics, that every error is an
// ErrBadLocation, and that every accepted location survives a round trip
// through String.
func FuzzParse(f *testing.F) {
	for _, seed := range []string{
		"rbd://fsid/pool/image/snap", "rbd://f/my%20pool/%C3%A9/s", "rbd://image",
		"rbd://///", "rbd://f/p/i/s?x", "rbd://f/p/a%2Fb/s", "rbd://f/p/i%00/s",
		"http://path/to/somewhere/else", "rbd://f/p/i/%", "",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, s string) {
		l, err := Parse(s)
		if err != nil {
			if !errors.Is(err, errs.ErrBadLocation) {
				t.Fatalf("Parse(%q): error %v is not ErrBadLocation", s, err)
			}
			return
		}
		again, err := Parse(l.String())
		if err != nil || again != l {
			t.Fatalf("round trip of %q via %q: %+v, %v", s, l.String(), again, err)
		}
	})
}
