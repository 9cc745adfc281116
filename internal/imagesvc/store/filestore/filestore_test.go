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
