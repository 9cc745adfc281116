package rbdloc

import (
	"errors"
	"testing"

	"github.com/cowdisk/cowdisk/internal/errs"
)

func TestParseGood(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want Location
	}{
		{"rbd://fsid/pool/image/snap", Location{"fsid", "pool", "image", "snap"}},
		{"rbd://0a1b-2c/images/5f1d-uuid/snap", Location{"0a1b-2c", "images", "5f1d-uuid", "snap"}},
		{"rbd://f/my%20pool/an%20image/s%20nap", Location{"f", "my pool", "an image", "s nap"}},
		{"rbd://f/p/%C3%A9t%C3%A9/%E2%9C%93", Location{"f", "p", "été", "✓"}},
		{"rbd://f/p/été/s", Location{"f", "p", "été", "s"}}, // unquoted unicode is accepted as is
		{"rbd://f/p/i+j/s", Location{"f", "p", "i+j", "s"}}, // '+' is not a space in a path
	} {
		t.Run(tc.in, func(t *testing.T) {
			got, err := Parse(tc.in)
			if err != nil {
				t.Fatalf("Parse(%q): %v", tc.in, err)
			}
			if got != tc.want {
				t.Fatalf("Parse(%q) = %+v, want %+v", tc.in, got, tc.want)
			}
		})
	}
}

func TestParseBad(t *testing.T) {
	for _, tc := range []struct{ in, why string }{
		{"", "empty"},
		{"rbd://image", "legacy one-part form"},
		{"http://path/to/somewhere/else", "other scheme"},
		{"RBD://f/p/i/s", "scheme is case sensitive like glance_store"},
		{"rbd:/f/p/i/s", "malformed scheme"},
		{"rbd://image/extra", "two parts"},
		{"rbd://image/", "two parts, one blank"},
		{"rbd://f/p/i", "three parts"},
		{"rbd://fsid/pool/image/", "blank snapshot"},
		{"rbd://fsid/pool/image/snap/", "five parts"},
		{"rbd://///", "all blank"},
		{"rbd://f//i/s", "blank pool"},
		{"rbd://f/p/i/s?x", "query"},
		{"rbd://f/p/i/s#frag", "fragment"},
		{"rbd://f/p/a%2Fb/s", "part decodes to slash"},
		{"rbd://f/p/i/s%40x", "part decodes to at"},
		{"rbd://f/p/i@x/s", "raw at"},
		{"rbd://f/p/i%00/s", "part decodes to NUL"},
		{"rbd://f/p/i/%zz", "bad escape"},
		{"rbd://f/p/i/%", "truncated escape"},
	} {
		t.Run(tc.why, func(t *testing.T) {
			l, err := Parse(tc.in)
			if err == nil {
				t.Fatalf("Parse(%q) = %+v, want error (%s)", tc.in, l, tc.why)
			}
			if !errors.Is(err, errs.ErrBadLocation) {
				t.Fatalf("Parse(%q) error %v does not wrap ErrBadLocation", tc.in, err)
			}
		})
	}
}

func TestStringRoundTrip(t *testing.T) {
	for _, l := range []Location{
		{"fsid", "pool", "image", "snap"},
		{"f", "my pool", "été", "s?n#a%p"},
		{"f", "p", "i;j,k", "snap"},
	} {
		s := l.String()
		got, err := Parse(s)
		if err != nil || got != l {
			t.Errorf("Parse(%q) = %+v, %v; want %+v", s, got, err, l)
		}
	}
}

func TestStringQuotes(t *testing.T) {
	got := Location{"f", "p q", "é", "s?"}.String()
	if want := "rbd://f/p%20q/%C3%A9/s%3F"; got != want {
		t.Fatalf("String() = %q, want %q", got, want)
	}
}
