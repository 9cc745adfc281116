package api

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"unicode/utf8"

	"github.com/cowdisk/cowdisk/internal/errs"
)

// readJSONBody reads a request body of at most maxRequestJSON bytes and
// refuses text that is not Unicode. encoding/json would quietly turn
// invalid UTF-8 and lone surrogate escapes into U+FFFD, so a name or
// property key would be stored as something the client never sent.
func readJSONBody(w http.ResponseWriter, r *http.Request) ([]byte, error) {
	b, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxRequestJSON))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return nil, err
		}
		return nil, fmt.Errorf("reading the request body: %v: %w", err, errs.ErrInvalid)
	}
	return b, validJSONText(b)
}

// validJSONText checks that b is UTF-8 and that every \u escape of a
// surrogate is a well-formed pair. Backslashes occur only inside JSON
// strings, so the escapes can be found without parsing the document.
func validJSONText(b []byte) error {
	if !utf8.Valid(b) {
		return fmt.Errorf("request body is not valid UTF-8: %w", errs.ErrInvalid)
	}
	for i := 0; i < len(b); i++ {
		if b[i] != '\\' || i+1 >= len(b) {
			continue
		}
		i++ // the escaped character; a "\\" pair is skipped whole
		if b[i] != 'u' {
			continue
		}
		r, ok := hex4(b, i+1)
		switch {
		case !ok || r < 0xD800 || r > 0xDFFF:
		case r >= 0xDC00:
			return fmt.Errorf("request body: lone low surrogate \\u%04x at byte %d: %w", r, i-1, errs.ErrInvalid)
		default:
			lo, ok := hex4(b, i+7)
			if i+6 >= len(b) || b[i+5] != '\\' || b[i+6] != 'u' || !ok || lo < 0xDC00 || lo > 0xDFFF {
				return fmt.Errorf("request body: lone high surrogate \\u%04x at byte %d: %w", r, i-1, errs.ErrInvalid)
			}
			i += 10
		}
	}
	return nil
}

// hex4 reads the four hex digits at b[at:].
func hex4(b []byte, at int) (rune, bool) {
	if at+4 > len(b) {
		return 0, false
	}
	n, err := strconv.ParseUint(string(b[at:at+4]), 16, 32)
	return rune(n), err == nil
}
