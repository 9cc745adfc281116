// Package testmode tells a unit run (`go test -short`, `make test-unit`)
// from a full run (`make test`).
//
// The line is drawn with -short rather than a build tag: every test file
// still compiles (and is vetted) in the quick loop, so a cluster test
// cannot rot unseen behind a tag, and the decision sits in the few helpers
// that start a dependency (testcluster.Config, ostest.Start*), not in each
// test. In a unit run those helpers skip the test and say what it needs; in
// a full run they fail it loudly when the dependency is missing. Nothing
// ever skips quietly in `make test`, which never passes -short.
package testmode

import (
	"flag"
	"fmt"
	"os"
	"testing"
)

// EnvSkips names a file a unit run appends one line per skipped test to
// ("<package dir>\t<test>\t<needs>"), so `make test-unit` can say what it
// left out without -v.
const EnvSkips = "COWDISK_UNIT_SKIPS"

// Unit reports whether this is a unit run. It is safe in TestMain, before
// m.Run has parsed the test flags.
func Unit() bool {
	if !flag.Parsed() {
		flag.Parse()
	}
	return testing.Short()
}

// Needs skips t in a unit run, naming what it needs (e.g. "a Ceph
// cluster"); in a full run it does nothing and the caller starts or
// connects to the dependency, failing t loudly if it cannot.
func Needs(t testing.TB, what string) {
	t.Helper()
	if Unit() {
		record(t.Name(), what)
		t.Skipf("unit run (-short): needs %s; `make test` runs it", what)
	}
}

// record appends the skip to EnvSkips' file. Each line is one small
// O_APPEND write, so test binaries running in parallel do not interleave.
func record(test, what string) {
	path := os.Getenv(EnvSkips)
	if path == "" {
		return
	}
	dir, _ := os.Getwd() // go test runs each package in its directory
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return // the summary is a convenience; the skip itself still says why
	}
	defer f.Close()
	fmt.Fprintf(f, "%s\t%s\t%s\n", dir, test, what)
}
