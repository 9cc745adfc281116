package strictjson

import (
	"fmt"

	"github.com/cowdisk/cowdisk/internal/errs"
)

// checkSurrogates refuses \uD800-\uDFFF escapes that are not a high
// surrogate directly followed by a low one: encoding/json turns them into
// U+FFFD without a word, so "a\ud800" and "a\udfff" would decode equal.
// It only looks inside strings; malformed documents are left to the parser.
func checkSurrogates(data []byte) error {
	inString := false
	for i := 0; i < len(data); i++ {
		c := data[i]
		if !inString {
			inString = c == '"'
			continue
		}
		switch c {
		case '"':
			inString = false
		case '\\':
			n, err := escape(data, i)
			if err != nil {
				return err
			}
			i += n - 1
		}
	}
	return nil
}

// escape checks the escape starting at data[i] (a backslash) and returns
// its length in bytes.
func escape(data []byte, i int) (int, error) {
	if i+1 >= len(data) || data[i+1] != 'u' {
		return 2, nil
	}
	u, ok := hex4(data, i+2)
	if !ok || u < 0xD800 || u > 0xDFFF {
		return 2, nil
	}
	if u <= 0xDBFF && i+11 < len(data) && data[i+6] == '\\' && data[i+7] == 'u' {
		if low, ok := hex4(data, i+8); ok && low >= 0xDC00 && low <= 0xDFFF {
			return 12, nil
		}
	}
	return 0, fmt.Errorf("JSON string has a lone surrogate escape \\u%04X (at byte %d): %w", u, i, errs.ErrInvalid)
}

func hex4(data []byte, at int) (rune, bool) {
	if at+4 > len(data) {
		return 0, false
	}
	var v rune
	for _, c := range data[at : at+4] {
		var d byte
		switch {
		case c >= '0' && c <= '9':
			d = c - '0'
		case c >= 'a' && c <= 'f':
			d = c - 'a' + 10
		case c >= 'A' && c <= 'F':
			d = c - 'A' + 10
		default:
			return 0, false
		}
		v = v<<4 | rune(d)
	}
	return v, true
}
