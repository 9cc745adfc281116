package ceph

import "testing"

// The temporary names: who made them, what they stand for, and that a
// claim belongs to no node.
func TestStageNames(t *testing.T) {
	a, b := StageName("i1_disk", "n1"), StageName("i1_disk", "n1")
	tests := []struct {
		name          string
		temp, byN1    bool
		final         string
		byEmptyMarker bool
	}{
		{a, true, true, "i1_disk", false},
		{ClaimName("base_x"), true, false, "base_x", true},
		{tempName("img"), true, false, "img", false},
		{"i1_disk", false, false, "i1_disk", false},
		{StageName("i1_disk", "n12"), true, false, "i1_disk", false},
	}
	for _, tt := range tests {
		if IsTemp(tt.name) != tt.temp || StagedBy(tt.name, "n1") != tt.byN1 || FinalName(tt.name) != tt.final || StagedBy(tt.name, "") != tt.byEmptyMarker {
			t.Errorf("%q: temp %v by-n1 %v final %q claim %v", tt.name, IsTemp(tt.name), StagedBy(tt.name, "n1"), FinalName(tt.name), StagedBy(tt.name, ""))
		}
	}
	if a == b {
		t.Error("two stage names alike")
	}
	if ClaimName("base_x") != "base_x.tmp--claim" {
		t.Errorf("claim name %q changed: nodes of the old spelling would not exclude each other", ClaimName("base_x"))
	}
}
