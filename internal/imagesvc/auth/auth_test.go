package auth

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/cowdisk/cowdisk/internal/errs"
)

func TestLoadTokens(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		name, body string
		ok         bool
	}{
		{"good", `{"tokens":[{"token":"t1","project":"p","roles":["member"]}]}`, true},
		{"bad json", `{"tokens":`, false},
		{"unknown role", `{"tokens":[{"token":"t1","project":"p","roles":["root"]}]}`, false},
		{"empty token", `{"tokens":[{"token":"","project":"p","roles":["member"]}]}`, false},
		{"duplicate", `{"tokens":[{"token":"a","project":"p","roles":["member"]},{"token":"a","project":"q","roles":["reader"]}]}`, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(dir, tc.name)
			os.WriteFile(path, []byte(tc.body), 0o600)
			_, err := LoadTokens(path)
			if (err == nil) != tc.ok {
				t.Fatalf("err = %v, want ok=%v", err, tc.ok)
			}
			if err != nil && !errors.Is(err, errs.ErrInvalid) {
				t.Fatalf("want ErrInvalid, got %v", err)
			}
		})
	}
}

func TestAuthenticateAndPolicy(t *testing.T) {
	ctx := context.Background()
	tok, err := NewTokens([]TokenEntry{
		{"m", "p1", []string{Member}}, {"r", "p1", []string{Reader}},
		{"s", "svc", []string{Service}}, {"a", "adm", []string{Admin}},
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, bad := range []string{"", "nope"} {
		if _, err := tok.Authenticate(ctx, bad); !errors.Is(err, errs.ErrPermission) {
			t.Fatalf("token %q: %v", bad, err)
		}
	}
	type verdict struct{ see, modify bool }
	// image owned by p2 with each visibility, seen from each token
	for _, tc := range []struct {
		token, vis string
		want       verdict
	}{
		{"m", "private", verdict{false, false}},
		{"m", "shared", verdict{false, false}},
		{"m", "public", verdict{true, false}},
		{"m", "community", verdict{true, false}},
		{"r", "public", verdict{true, false}},
		{"s", "private", verdict{true, false}},
		{"a", "private", verdict{true, true}},
	} {
		p, err := tok.Authenticate(ctx, tc.token)
		if err != nil {
			t.Fatal(err)
		}
		got := verdict{p.CanSee("p2", tc.vis, false), p.CanModify("p2")}
		if got != tc.want {
			t.Errorf("%s on %s image of p2: got %+v want %+v", tc.token, tc.vis, got, tc.want)
		}
	}
	m, _ := tok.Authenticate(ctx, "m")
	r, _ := tok.Authenticate(ctx, "r")
	if !m.CanSee("p2", "shared", true) || m.CanSee("p2", "private", true) {
		t.Fatal("membership rules wrong")
	}
	if !m.CanModify("p1") || r.CanModify("p1") || r.CanCreate() || !m.CanCreate() || m.SeesLocations() {
		t.Fatal("own-project rules wrong")
	}
}
