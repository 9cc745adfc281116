// Package strictjson decodes JSON that comes from someone we do not trust
// (a caller of our HTTP APIs, or an image service answering the node).
//
// encoding/json is lenient in ways an attacker can use: of two members with
// the same name the last one wins, member names match struct fields without
// regard to case (Unicode folding included: "diſk_format" matches
// "disk_format"), invalid UTF-8 and lone surrogate escapes become U+FFFD
// silently, and a second value after the first is never read. Two parsers
// that resolve these differently (a proxy, a policy check, the server) see
// two different requests. Decode refuses all of them, naming the member.
package strictjson

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"unicode/utf8"

	"github.com/cowdisk/cowdisk/internal/errs"
)

// Options says what else to refuse.
type Options struct {
	// DisallowUnknownFields refuses members that match no struct field.
	DisallowUnknownFields bool
	// MaxBytes bounds the document (0: no bound of its own; the reader may
	// still be bounded, e.g. by http.MaxBytesReader).
	MaxBytes int64
}

// Decode reads one JSON value from r into v and refuses duplicate member
// names (exact or differing only in case, at any depth), invalid UTF-8,
// lone surrogates and anything after the value. Errors wrap errs.ErrInvalid
// and name the member; an *http.MaxBytesError from r is kept (wrapped), so
// an HTTP edge can still answer 413 (the error wraps errs.ErrInvalid too).
func Decode(r io.Reader, v any, o Options) error {
	data, err := readAll(r, o.MaxBytes)
	if err != nil {
		return err
	}
	return Unmarshal(data, v, o)
}

// Unmarshal is Decode over a byte slice (MaxBytes applies too).
func Unmarshal(data []byte, v any, o Options) error {
	if o.MaxBytes > 0 && int64(len(data)) > o.MaxBytes {
		return fmt.Errorf("JSON document of %d bytes exceeds the limit of %d: %w", len(data), o.MaxBytes, errs.ErrInvalid)
	}
	if err := Validate(data); err != nil {
		return err
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	if o.DisallowUnknownFields {
		dec.DisallowUnknownFields()
	}
	if err := dec.Decode(v); err != nil {
		return fmt.Errorf("%s: %w", describe(err), errs.ErrInvalid)
	}
	return nil
}

func readAll(r io.Reader, max int64) ([]byte, error) {
	if max > 0 {
		r = io.LimitReader(r, max+1)
	}
	data, err := io.ReadAll(r)
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return nil, fmt.Errorf("JSON document exceeds the limit of %d bytes: %w: %w", mbe.Limit, err, errs.ErrInvalid)
		}
		return nil, fmt.Errorf("reading JSON document: %w", err)
	}
	if max > 0 && int64(len(data)) > max {
		return nil, fmt.Errorf("JSON document exceeds the limit of %d bytes: %w", max, errs.ErrInvalid)
	}
	return data, nil
}

// describe turns encoding/json's errors into text without Go type names
// where it can: the message goes back to a caller.
func describe(err error) string {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) && te.Field != "" {
		return fmt.Sprintf("member %q: JSON %s where %s was expected", te.Field, te.Value, te.Type.Kind())
	}
	return fmt.Sprintf("JSON: %v", err)
}

// Validate checks a whole document without decoding it into anything:
// valid UTF-8, no lone surrogate escapes, exactly one value, no duplicate
// or case-folding-equal member names in any object.
func Validate(data []byte) error {
	if !utf8.Valid(data) {
		return fmt.Errorf("JSON document is not valid UTF-8 (at byte %d): %w", invalidAt(data), errs.ErrInvalid)
	}
	if err := checkSurrogates(data); err != nil {
		return err
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	if err := walk(dec, "$"); err != nil {
		return err
	}
	if _, err := dec.Token(); err != io.EOF {
		return fmt.Errorf("trailing data after the JSON value (at byte %d): %w", dec.InputOffset(), errs.ErrInvalid)
	}
	return nil
}

func invalidAt(data []byte) int {
	for i := 0; i < len(data); {
		r, n := utf8.DecodeRune(data[i:])
		if r == utf8.RuneError && n <= 1 {
			return i
		}
		i += n
	}
	return len(data)
}
