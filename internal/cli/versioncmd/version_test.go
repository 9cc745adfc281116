package versioncmd

import (
	"bytes"
	"encoding/json"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"testing"
)

// The versions come from the binary and the loaded libraries; a bug report
// is only useful when every field is really filled in.
func TestVersionJSON(t *testing.T) {
	c := Command()
	var out bytes.Buffer
	c.SetOut(&out)
	c.SetArgs([]string{"--json"})
	if err := c.Execute(); err != nil {
		t.Fatal(err)
	}
	var v map[string]any
	if err := json.Unmarshal(out.Bytes(), &v); err != nil {
		t.Fatalf("%v: %s", err, out.String())
	}
	semver := regexp.MustCompile(`^\d+\.\d+\.\d+$`)
	for _, k := range []string{"librados", "librbd"} {
		if s, _ := v[k].(string); !semver.MatchString(s) || s == "0.0.0" {
			t.Errorf("%s = %q; want a loaded library version", k, s)
		}
	}
	if s, _ := v["go_version"].(string); s == "" {
		t.Error("go_version is empty")
	}
}

// A test binary carries no module list, so the go-ceph version is checked on
// a real build of the command, as an operator runs it.
func TestVersionOfBuiltBinary(t *testing.T) {
	tag, err := exec.Command("../../../scripts/ceph-build-tag").Output()
	if err != nil {
		t.Fatalf("scripts/ceph-build-tag: %v", err)
	}
	bin := filepath.Join(t.TempDir(), "cowdisk")
	build := exec.Command(filepath.Join(runtime.GOROOT(), "bin", "go"), "build", "-tags", string(bytes.TrimSpace(tag)), "-o", bin,
		"github.com/cowdisk/cowdisk/cmd/cowdisk")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	out, err := exec.Command(bin, "version", "--json").Output()
	if err != nil {
		t.Fatal(err)
	}
	var v struct {
		GoCeph string `json:"go_ceph"`
	}
	if err := json.Unmarshal(out, &v); err != nil {
		t.Fatal(err)
	}
	if !regexp.MustCompile(`^v\d+\.\d+\.\d+`).MatchString(v.GoCeph) {
		t.Errorf("go_ceph = %q; want the linked module version", v.GoCeph)
	}
	if out, err := exec.Command(bin, "--version").Output(); err != nil || !bytes.HasPrefix(out, []byte("cowdisk version ")) {
		t.Errorf("--version: %q, %v", out, err)
	}
}
