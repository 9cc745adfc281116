package servecmd

import (
	"os"
	"strings"
	"testing"
	"time"
)

// TestImagesDBFlags: pool flags reach the config and are bounded; a
// postgres:// --db makes no directory (it used to make "postgres:" in
// the working directory); an unknown scheme is left to the catalog,
// which refuses it (catalog.TestOpenRefusesUnknownScheme).
func TestImagesDBFlags(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	got, err := runImages(t, nil, []string{"--data-dir", dir, "--db", "postgres://u@127.0.0.1:1/images",
		"--db-max-conns", "7", "--db-connect-timeout", "2s", "--lease-ttl", "10s", "--replica", "r1"})
	if err != nil || got.DBPool.MaxConns != 7 || got.DBPool.ConnectTimeout != 2*time.Second ||
		got.DBPool.StatementTimeout != 30*time.Second || got.LeaseTTL != 10*time.Second || got.Replica != "r1" {
		t.Fatalf("%v %+v", err, got)
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 0 {
		t.Fatalf("a postgres:// catalog made %v in the working directory", ents)
	}
	for _, args := range [][]string{{"--db-max-conns", "0"}, {"--db-max-conns", "5000"},
		{"--db-connect-timeout", "0s"}, {"--lease-ttl", "1s"}} {
		_, err := runImages(t, nil, append([]string{"--data-dir", dir}, args...))
		if err == nil || !strings.Contains(err.Error(), args[0]) {
			t.Errorf("%v: err %v, want one naming %s", args, err, args[0])
		}
	}
}
