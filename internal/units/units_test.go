package units

import (
	"errors"
	"testing"

	"github.com/cowdisk/cowdisk/internal/errs"
)

func TestParseSize(t *testing.T) {
	for _, c := range []struct {
		in   string
		want uint64
	}{
		{"10G", 10 << 30}, {"10GiB", 10 << 30}, {"10g", 10 << 30}, {"10gib", 10 << 30},
		{"512B", 512}, {"0B", 0}, {"64K", 64 << 10}, {"1.5T", 3 << 39}, {"20 GiB", 20 << 30},
		{"1M", 1 << 20}, {"7P", 7 << 50},
	} {
		got, err := ParseSize(c.in)
		if err != nil || got != c.want {
			t.Errorf("ParseSize(%q) = %d, %v; want %d", c.in, got, err, c.want)
		}
	}
}

func TestParseSizeRefuses(t *testing.T) {
	for _, in := range []string{"", "10", "-1", "-1G", "10GB", "10X", "G", "1.5B", "0.1K", "abcG",
		"8192P", "99999999999999999999G", "1e3G", "10 G B"} {
		_, err := ParseSize(in)
		if !errors.Is(err, errs.ErrInvalid) {
			t.Errorf("ParseSize(%q) = %v; want ErrInvalid", in, err)
		}
	}
}

func TestFormat(t *testing.T) {
	for n, want := range map[uint64]string{0: "0 B", 1023: "1023 B", 1024: "1 KiB", 20 << 30: "20 GiB",
		3 << 39: "1.5 TiB", 1<<20 + 1: "1 MiB"} {
		if got := Format(n); got != want {
			t.Errorf("Format(%d) = %q; want %q", n, got, want)
		}
	}
}
