package filestore

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/cowdisk/cowdisk/internal/errs"
	"github.com/cowdisk/cowdisk/internal/imagesvc/store/storetest"
)

func TestSuite(t *testing.T) {
	s, err := New(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	storetest.Run(t, storetest.Harness{Store: s, Size: 5<<20 + 123, Leftovers: func(t *testing.T) []string {
		ents, err := os.ReadDir(s.Dir())
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, e := range ents {
			names = append(names, e.Name())
		}
		return names
	}})
}

func TestLocationsOutsideDirRefused(t *testing.T) {
	s, err := New(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	for _, loc := range []string{"file:///etc/passwd", "file://" + filepath.Join(s.Dir(), "..", "x"),
		"file://" + filepath.Join(s.Dir(), ".tmp-x"), "rbd://a/b/c/d", "::"} {
		if _, err := s.Open(context.Background(), loc); !errors.Is(err, errs.ErrBadLocation) {
			t.Errorf("open %q: %v", loc, err)
		}
		if err := s.Delete(context.Background(), loc); !errors.Is(err, errs.ErrBadLocation) {
			t.Errorf("delete %q: %v", loc, err)
		}
	}
	if _, err := s.Put(context.Background(), "../x", nil, 0); !errors.Is(err, errs.ErrInvalid) {
		t.Errorf("put ../x: %v", err)
	}
}

func TestSweep(t *testing.T) {
	s, err := New(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range []string{".tmp-a-123", "6a1f0c55-3f7e-4c55-9c55-000000000001"} {
		os.WriteFile(filepath.Join(s.Dir(), n), []byte("x"), 0o600)
	}
	removed, err := s.Sweep(context.Background())
	if err != nil || len(removed) != 1 || removed[0] != ".tmp-a-123" {
		t.Fatalf("removed %v %v", removed, err)
	}
	if _, err := os.Stat(filepath.Join(s.Dir(), "6a1f0c55-3f7e-4c55-9c55-000000000001")); err != nil {
		t.Fatal("sweep removed a complete image")
	}
}
