package rbdloc

import (
	"errors"
	"strings"
	"testing"

	"github.com/cowdisk/cowdisk/internal/errs"
)

func TestRedact(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"http://admin:s3cret@host/path", "http://host/path"},
		{"rbd://admin:s3cret@fsid/pool/img/snap", "rbd://fsid/pool/img/snap"},
		{"swift+https://u:p@a@host:8080/v1", "swift+https://host:8080/v1"},
		{`location "http://admin:s3cret@h/x" refused; also s3://k:v@b/o`, `location "http://h/x" refused; also s3://b/o`},
		{"rbd://admin%3As3cret%40fsid/pool/img/snap", "rbd://fsid/pool/img/snap"},
		{"rbd://fsid/pool/img/snap", "rbd://fsid/pool/img/snap"},
		{"no url here, mail me@host", "no url here, mail me@host"},
	} {
		if got := Redact(c.in); got != c.want {
			t.Errorf("Redact(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

// A refused location's error never repeats what came before an '@'.
func TestParseErrorsHideCredentials(t *testing.T) {
	for _, loc := range []string{
		"rbd://admin:s3cret@fsid/pool/img/snap",
		"rbd://admin%3As3cret%40fsid/pool/img/snap",
		"rbd://fsid/admin:s3cret@pool/img/snap",
		"http://admin:s3cret@host/x",
		"rbd://admin:s3cret@fsid/pool?x",
	} {
		_, err := Parse(loc)
		if !errors.Is(err, errs.ErrBadLocation) {
			t.Fatalf("Parse(%q) = %v, want ErrBadLocation", loc, err)
		}
		if strings.Contains(err.Error(), "s3cret") {
			t.Errorf("Parse(%q) error leaks the password: %v", loc, err)
		}
	}
}
