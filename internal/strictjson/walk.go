package strictjson

import (
	"encoding/json"
	"fmt"
	"strings"
	"unicode"

	"github.com/cowdisk/cowdisk/internal/errs"
)

// maxDepth bounds nesting so a document of brackets cannot make the walk
// recurse without end; no document cowdisk reads nests past a handful.
const maxDepth = 256

// walk reads one value from dec and checks every object in it.
func walk(dec *json.Decoder, path string) error {
	return walkDepth(dec, path, 0)
}

func walkDepth(dec *json.Decoder, path string, depth int) error {
	tok, err := dec.Token()
	if err != nil {
		return fmt.Errorf("JSON syntax error at %s (byte %d): %v: %w", path, dec.InputOffset(), err, errs.ErrInvalid)
	}
	d, ok := tok.(json.Delim)
	if !ok {
		return nil
	}
	if depth >= maxDepth {
		return fmt.Errorf("JSON nested deeper than %d at %s: %w", maxDepth, path, errs.ErrInvalid)
	}
	switch d {
	case '{':
		err = walkObject(dec, path, depth)
	case '[':
		err = walkArray(dec, path, depth)
	}
	if err != nil {
		return err
	}
	if _, err := dec.Token(); err != nil { // the closing delimiter
		return fmt.Errorf("JSON syntax error at %s: %v: %w", path, err, errs.ErrInvalid)
	}
	return nil
}

func walkObject(dec *json.Decoder, path string, depth int) error {
	seen := map[string]string{} // folded name -> name as sent
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return fmt.Errorf("JSON syntax error in %s: %v: %w", path, err, errs.ErrInvalid)
		}
		key, _ := tok.(string)
		f := Fold(key)
		if prev, dup := seen[f]; dup {
			if prev == key {
				return fmt.Errorf("duplicate member %s in %s: %w", quote(key), path, errs.ErrInvalid)
			}
			return fmt.Errorf("members %s and %s differ only in case (in %s): %w", quote(prev), quote(key), path, errs.ErrInvalid)
		}
		seen[f] = key
		if err := walkDepth(dec, path+"."+quote(key), depth+1); err != nil {
			return err
		}
	}
	return nil
}

func walkArray(dec *json.Decoder, path string, depth int) error {
	for i := 0; dec.More(); i++ {
		if err := walkDepth(dec, fmt.Sprintf("%s[%d]", path, i), depth+1); err != nil {
			return err
		}
	}
	return nil
}

// Fold maps a name to a key shared by every name that equals it under
// Unicode simple case folding (what bytes.EqualFold and encoding/json's
// field matching use): each rune becomes the smallest rune of its folding
// orbit, so "S", "s" and "ſ" (U+017F) all become "S".
func Fold(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	for _, r := range s {
		b.WriteRune(foldRune(r))
	}
	return b.String()
}

func foldRune(r rune) rune {
	least := r
	for f := unicode.SimpleFold(r); f != r; f = unicode.SimpleFold(f) {
		least = min(least, f)
	}
	return least
}

// quote bounds a member name in messages: names come from the sender.
func quote(s string) string {
	const max = 64
	if len(s) > max {
		cut := max
		for cut > 0 && !utf8RuneStart(s[cut]) {
			cut--
		}
		return fmt.Sprintf("%q…", s[:cut])
	}
	return fmt.Sprintf("%q", s)
}

func utf8RuneStart(b byte) bool { return b&0xC0 != 0x80 }
