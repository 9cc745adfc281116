package ceph

import (
	"strings"
	"testing"
)

// The temporary names: what they stand for, that two are never alike, and
// that a claim's spelling stays what older nodes race for.
func TestStageNames(t *testing.T) {
	a, b := StageName("i1_disk", "n1"), StageName("i1_disk", "n1")
	tests := []struct {
		name  string
		temp  bool
		final string
	}{
		{a, true, "i1_disk"},
		{ClaimName("base_x"), true, "base_x"},
		{TempName("img"), true, "img"},
		{"i1_disk", false, "i1_disk"},
	}
	for _, tt := range tests {
		if IsTemp(tt.name) != tt.temp || FinalName(tt.name) != tt.final {
			t.Errorf("%q: temp %v final %q", tt.name, IsTemp(tt.name), FinalName(tt.name))
		}
	}
	if a == b || !strings.HasPrefix(a, "i1_disk.tmp-n1-") {
		t.Errorf("stage names %q %q", a, b)
	}
	if ClaimName("base_x") != "base_x.tmp--claim" {
		t.Errorf("claim name %q changed: nodes of the old spelling would not exclude each other", ClaimName("base_x"))
	}
}
