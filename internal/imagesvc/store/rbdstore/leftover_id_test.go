package rbdstore

import "testing"

// TestLeftoverImageID: the sweep spares live uploads by the image id in a
// temporary's name; names that are no temporary of this store give "".
func TestLeftoverImageID(t *testing.T) {
	id := "3f0c1a52-6a8e-4a55-9a1e-5b0a6e3f2c11"
	for name, want := range map[string]string{
		id + ".tmp-0a1b2c3d4e5f": id,
		id:                       "", // a published image
		"vm-disk.tmp-0a1b2c3d":   "", // another tool's temporary
		"":                       "",
	} {
		if got := LeftoverImageID(name); got != want {
			t.Errorf("LeftoverImageID(%q) = %q, want %q", name, got, want)
		}
	}
}
