// Package units reads and prints sizes the way Ceph's and QEMU's tools do:
// K, M, G, T, P are powers of 1024, so "--size 10G" is the same disk for
// cowdisk, `rbd create` and `qemu-img create`.
package units

import (
	"fmt"
	"math"
	"math/big"
	"strings"

	"github.com/cowdisk/cowdisk/internal/errs"
)

// Form is what a size looks like, for error messages.
const Form = `a number with a unit: 512B, 64K, 20G, 1.5T (K/M/G/T/P are binary, as in rbd and qemu-img; KiB, GiB… also accepted)`

var shifts = map[string]uint{"B": 0, "K": 10, "M": 20, "G": 30, "T": 40, "P": 50}

// ParseSize reads a size such as "20G", "20GiB", "1.5T" or "512B". A bare
// number is refused: whether "10" meant bytes or gigabytes is exactly the
// mistake this guards against. Decimal units ("GB") are refused too, since
// rbd reads them as binary and other tools as decimal.
func ParseSize(s string) (uint64, error) {
	num, unit := split(strings.TrimSpace(s))
	if num == "" || unit == "" {
		return 0, fmt.Errorf("size %q: want %s: %w", s, Form, errs.ErrInvalid)
	}
	u := strings.ToUpper(unit)
	if len(u) == 3 && strings.HasSuffix(u, "IB") {
		u = u[:1]
	}
	shift, ok := shifts[u]
	if !ok {
		return 0, fmt.Errorf("size %q: unknown unit %q: want %s: %w", s, unit, Form, errs.ErrInvalid)
	}
	r, ok := new(big.Rat).SetString(num)
	if !ok || r.Sign() < 0 {
		return 0, fmt.Errorf("size %q: %q is not a non-negative number: %w", s, num, errs.ErrInvalid)
	}
	r.Mul(r, new(big.Rat).SetInt(new(big.Int).Lsh(big.NewInt(1), shift)))
	if !r.IsInt() {
		return 0, fmt.Errorf("size %q is not a whole number of bytes: %w", s, errs.ErrInvalid)
	}
	// Sizes travel as int64 through librbd and the Glance API.
	if r.Num().Cmp(big.NewInt(math.MaxInt64)) > 0 {
		return 0, fmt.Errorf("size %q is larger than 8 EiB: %w", s, errs.ErrInvalid)
	}
	return r.Num().Uint64(), nil
}

// split cuts "1.5GiB" into "1.5" and "GiB".
func split(s string) (num, unit string) {
	i := strings.IndexFunc(s, func(r rune) bool { return (r < '0' || r > '9') && r != '.' && r != '-' && r != '+' })
	if i < 0 {
		return s, ""
	}
	return s[:i], strings.TrimSpace(s[i:])
}

// Format prints n in the largest binary unit that keeps one decimal,
// e.g. "20 GiB", "1.5 TiB", "512 B".
func Format(n uint64) string {
	const names = "KMGTPE"
	if n < 1024 {
		return fmt.Sprintf("%d B", n)
	}
	v, i := float64(n)/1024, 0
	for v >= 1024 && i < len(names)-1 {
		v, i = v/1024, i+1
	}
	s := fmt.Sprintf("%.1f", v)
	s = strings.TrimSuffix(s, ".0")
	return s + " " + names[i:i+1] + "iB"
}
