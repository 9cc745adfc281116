package testmode

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Needs skips, and records the skip, exactly in a unit run: this test
// passes both with and without -short, checking the side it runs on.
func TestNeeds(t *testing.T) {
	skips := filepath.Join(t.TempDir(), "skips")
	t.Setenv(EnvSkips, skips)
	var skipped bool
	t.Run("inner", func(t *testing.T) {
		defer func() { skipped = t.Skipped() }()
		Needs(t, "a thing")
	})
	if skipped != testing.Short() {
		t.Fatalf("skipped %v in a run with -short=%v", skipped, testing.Short())
	}
	b, err := os.ReadFile(skips)
	switch {
	case testing.Short() && (err != nil || !strings.HasSuffix(string(b), "\tTestNeeds/inner\ta thing\n")):
		t.Fatalf("skip record %q %v", b, err)
	case !testing.Short() && !os.IsNotExist(err):
		t.Fatalf("a full run recorded a skip: %q %v", b, err)
	}
}
