package staging

import (
	"context"
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/cowdisk/cowdisk/internal/errs"
)

func TestArea(t *testing.T) {
	ctx := context.Background()
	a, err := New(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	const id = "3f1c2a9e-5b7d-4c1e-9a2b-0d4e6f8a1b2c"
	for _, bad := range []string{"../etc", ".hidden", "3F1C2A9E-5B7D-4C1E-9A2B-0D4E6F8A1B2C", "x/y", ""} {
		if _, err := a.Put(ctx, bad, strings.NewReader("x"), 1); !errors.Is(err, errs.ErrInvalid) {
			t.Errorf("Put(%q): %v, want ErrInvalid", bad, err)
		}
		if _, err := a.Location(bad); !errors.Is(err, errs.ErrInvalid) {
			t.Errorf("Location(%q): %v, want ErrInvalid", bad, err)
		}
	}
	res, err := a.Put(ctx, id, strings.NewReader("staged"), 6)
	if err != nil {
		t.Fatal(err)
	}
	if loc, _ := a.Location(id); loc != res.Location {
		t.Fatalf("Location %s, Put wrote %s", loc, res.Location)
	}
	os.WriteFile(a.Dir()+"/.tmp-"+id+"-1", []byte("half"), 0o600)
	removed, err := a.Clear()
	if err != nil || len(removed) != 2 {
		t.Fatalf("Clear removed %v, %v", removed, err)
	}
	if ents, _ := os.ReadDir(a.Dir()); len(ents) != 0 || !a.HashesData() {
		t.Fatalf("after Clear: %v", ents)
	}
}
