package imagecmd

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/cowdisk/cowdisk/internal/errs"
	"github.com/cowdisk/cowdisk/internal/imageclient"
	"github.com/cowdisk/cowdisk/internal/imagesvc/auth"
	"github.com/cowdisk/cowdisk/internal/imagesvc/imagesvctest"
)

func serve(t *testing.T) string {
	return imagesvctest.Serve(t, auth.None{Project: "p"})
}

// run executes `cowdisk image ARGS...` and returns stdout, stderr.
func run(t *testing.T, url string, args ...string) (string, string, error) {
	t.Helper()
	c := Command()
	var out, errb bytes.Buffer
	c.SetOut(&out)
	c.SetErr(&errb)
	c.SetArgs(append([]string{"--endpoint", url}, args...))
	err := c.ExecuteContext(context.Background())
	return out.String(), errb.String(), err
}

func TestImageCommands(t *testing.T) {
	t.Setenv("OS_AUTH_URL", "") // an openrc in the caller's shell must not send us to Keystone
	url := serve(t)
	dir := t.TempDir()
	src := filepath.Join(dir, "disk.raw")
	data := bytes.Repeat([]byte("cowdisk "), 300000)
	os.WriteFile(src, data, 0o600)

	out, stderr, err := run(t, url, "create", "debian", "--file", src, "--tag", "base",
		"--property", "os_distro=debian", "--json", "--progress", "always")
	if err != nil {
		t.Fatal(err)
	}
	var img imageclient.Image
	if err := json.Unmarshal([]byte(out), &img); err != nil || img.Status != "active" ||
		img.Size != int64(len(data)) || img.Properties["os_distro"] != "debian" {
		t.Fatalf("create: %v %s", err, out)
	}
	if !strings.Contains(stderr, "100%") {
		t.Fatalf("no progress bar on stderr: %q", stderr)
	}

	if out, _, err = run(t, url, "list"); err != nil || !strings.Contains(out, img.ID) || !strings.Contains(out, "debian") {
		t.Fatalf("list: %v %s", err, out)
	}
	if out, _, err = run(t, url, "update", img.ID, "--name", "debian-13", "--remove-property", "os_distro",
		"--min-disk", "2"); err != nil || !strings.Contains(out, "debian-13") || strings.Contains(out, "os_distro") {
		t.Fatalf("update: %v %s", err, out)
	}
	if out, _, err = run(t, url, "show", img.ID); err != nil || !regexp.MustCompile(`(?m)^min_disk +2$`).MatchString(out) {
		t.Fatalf("show: %v %s", err, out)
	}
	dst := filepath.Join(dir, "back.raw")
	if _, stderr, err = run(t, url, "download", img.ID, "-o", dst); err != nil || stderr != "" {
		t.Fatalf("download: %v %q", err, stderr)
	}
	if got, _ := os.ReadFile(dst); !bytes.Equal(got, data) {
		t.Fatal("downloaded file differs")
	}
	// Upload from stdin (unknown length), into a second image.
	out, _, err = run(t, url, "create", "empty", "--json")
	json.Unmarshal([]byte(out), &img)
	c := Command()
	c.SetIn(bytes.NewReader(data))
	c.SetArgs([]string{"--endpoint", url, "upload", img.ID, "-"})
	if err := c.Execute(); err != nil {
		t.Fatalf("upload from stdin: %v", err)
	}
	if out, _, err = run(t, url, "delete", img.ID); err != nil || !strings.Contains(out, "deleted") {
		t.Fatalf("delete: %v %s", err, out)
	}
	if _, _, err = run(t, url, "show", img.ID); !errors.Is(err, errs.ErrNotFound) {
		t.Fatalf("show after delete: %v", err)
	}
	if _, _, err = run(t, url, "create", "x", "--property", "novalue"); err == nil {
		t.Fatal("bad --property accepted")
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 2 {
		t.Fatalf("download left temporary files: %v", entries)
	}
}
