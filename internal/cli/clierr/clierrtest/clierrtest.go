// Package clierrtest checks what a person reads in a CLI error.
package clierrtest

import (
	"errors"
	"strings"
	"testing"
)

// Says fails t unless err wraps is, contains every want and none of
// forbidden.
func Says(t testing.TB, err, is error, want, forbidden []string) {
	t.Helper()
	if !errors.Is(err, is) {
		t.Fatalf("err = %v, want %v", err, is)
	}
	for _, w := range want {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("%q lacks %q", err, w)
		}
	}
	for _, f := range forbidden {
		if strings.Contains(err.Error(), f) {
			t.Errorf("%q has %q", err, f)
		}
	}
}
