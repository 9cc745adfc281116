package imagecmd

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/cowdisk/cowdisk/internal/cli/clierr"
	"github.com/cowdisk/cowdisk/internal/cli/clierr/clierrtest"
	"github.com/cowdisk/cowdisk/internal/errs"
	"github.com/cowdisk/cowdisk/internal/imageclient"
)

// names lists the names of every image on the service.
func names(t *testing.T, url string) []string {
	t.Helper()
	out, _, err := run(t, url, "list", "--json")
	if err != nil {
		t.Fatal(err)
	}
	var imgs []imageclient.Image
	if err := json.Unmarshal([]byte(out), &imgs); err != nil {
		t.Fatal(err)
	}
	var n []string
	for _, i := range imgs {
		n = append(n, i.Name+":"+i.Status)
	}
	return n
}

// qcow2WithBacking is a qcow2 that names a host file as its backing file,
// which the service's inspector refuses.
func qcow2WithBacking(t *testing.T, dir string) string {
	t.Helper()
	p := filepath.Join(dir, "evil.qcow2")
	out, err := exec.Command("qemu-img", "create", "-f", "qcow2", "-F", "raw", "-b", "/etc/passwd", p, "1M").CombinedOutput()
	if err != nil {
		t.Fatalf("qemu-img (from qemu-utils) is needed: %v %s", err, out)
	}
	return p
}

// Issue 13: a failed `image create` left a queued record and suggested a
// retry that could not work.
func TestCreateFailureLeavesNoRecord(t *testing.T) {
	t.Setenv("OS_AUTH_URL", "")
	url := serve(t)
	dir := t.TempDir()
	evil := qcow2WithBacking(t, dir)
	for _, c := range []struct {
		name string
		args []string
		want string   // in the error
		left []string // images left behind
	}{
		{"missing file", []string{"create", "a", "--file", filepath.Join(dir, "nope.raw")}, "no such file", nil},
		{"refused format", []string{"create", "b", "--file", evil, "--disk-format", "qcow2"}, `new image "b": upload failed, record deleted again`, nil},
		{"refused, kept", []string{"create", "c", "--file", evil, "--disk-format", "qcow2", "--keep"}, "record kept (--keep)", []string{"c:queued"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, _, err := run(t, url, c.args...)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("err = %v, want it to mention %q", err, c.want)
			}
			if c.left == nil && strings.Contains(err.Error(), "image upload") {
				t.Fatalf("suggests a retry on a deleted record: %v", err)
			}
			if got := names(t, url); strings.Join(got, ",") != strings.Join(c.left, ",") {
				t.Fatalf("left behind %v, want %v", got, c.left)
			}
			run(t, url, "delete", "c")
		})
	}
}

// cancelReader stands for Ctrl-C during an upload: after the first chunk
// it cancels the command's context.
type cancelReader struct {
	cancel context.CancelFunc
	n      int
}

func (r *cancelReader) Read(p []byte) (int, error) {
	r.n++
	if r.n == 2 {
		r.cancel()
	}
	return copy(p, bytes.Repeat([]byte{1}, len(p))), nil
}

func TestCreateInterruptedLeavesNoRecord(t *testing.T) {
	t.Setenv("OS_AUTH_URL", "")
	url := serve(t)
	ctx, cancel := context.WithCancel(context.Background())
	c := Command()
	c.SetIn(&cancelReader{cancel: cancel})
	c.SetOut(&bytes.Buffer{})
	c.SetErr(&bytes.Buffer{})
	c.SetArgs([]string{"--endpoint", url, "create", "x", "--file", "-"})
	err := c.ExecuteContext(ctx)
	if err == nil || !strings.Contains(err.Error(), "record deleted again") {
		t.Fatalf("err = %v", err)
	}
	if got := names(t, url); len(got) != 0 {
		t.Fatalf("left behind %v", got)
	}
}

func closedPort(t *testing.T) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return addr
}

// URL mistakes showed Go's parser, connection refused had no hint, and
// messages said the same thing twice.
func TestFriendlyErrors(t *testing.T) {
	t.Setenv("OS_AUTH_URL", "")
	url := serve(t)
	down := closedPort(t)
	for _, c := range []struct {
		url       string
		args      []string
		want      []string
		forbidden []string
		is        error
	}{
		{down, []string{"list"}, []string{"is not an http(s) URL", "--endpoint"}, []string{"first path segment"}, errs.ErrInvalid},
		{"http://" + down, []string{"list"}, []string{"cannot reach the image service at http://" + down, "cowdisk serve images", "--endpoint"}, []string{"Get \""}, syscall.ECONNREFUSED},
		{url, []string{"show", "nosuch"}, []string{`no image has the id or name "nosuch"`}, nil, errs.ErrNotFound},
	} {
		t.Run(strings.Join(c.args, " ")+" "+c.url, func(t *testing.T) {
			_, _, err := run(t, c.url, c.args...)
			clierrtest.Says(t, err, c.is, c.want, c.forbidden)
		})
	}
	// The image client names the image once, not "get image X: ...(image X: not found)".
	cl, _ := imageclient.New(url, "", imageclient.Options{})
	_, err := cl.Get(context.Background(), "4e0b1a70-0000-4000-8000-000000000000")
	if n := strings.Count(err.Error(), "4e0b1a70"); n != 1 || !errors.Is(err, errs.ErrNotFound) {
		t.Fatalf("%q names the image %d times", err, n)
	}
}

func TestJSONErrors(t *testing.T) {
	t.Setenv("OS_AUTH_URL", "")
	url := serve(t)
	out, stderr, err := run(t, url, "show", "nosuch", "--json")
	if err == nil || !clierr.IsReported(err) || out != "" {
		t.Fatalf("err %v, stdout %q", err, out)
	}
	var body struct {
		Error struct{ Code, Message string }
	}
	if jerr := json.Unmarshal([]byte(stderr), &body); jerr != nil || body.Error.Code != "not_found" ||
		!strings.Contains(body.Error.Message, "nosuch") {
		t.Fatalf("stderr %q: %v", stderr, jerr)
	}
}

func TestByNameAndSizes(t *testing.T) {
	t.Setenv("OS_AUTH_URL", "")
	url := serve(t)
	src := filepath.Join(t.TempDir(), "d.raw")
	os.WriteFile(src, bytes.Repeat([]byte("x"), 3<<20/2), 0o600) // 1.5 MiB
	var ids []string
	for _, n := range []string{"solo", "twin", "twin"} {
		out, _, err := run(t, url, "create", n, "--file", src, "--json")
		var img imageclient.Image
		if err != nil || json.Unmarshal([]byte(out), &img) != nil {
			t.Fatal(err, out)
		}
		ids = append(ids, img.ID)
	}
	if out, _, err := run(t, url, "show", "solo"); err != nil || !strings.Contains(out, ids[0]) ||
		!strings.Contains(out, "1.5 MiB (1572864 bytes)") {
		t.Fatalf("show by name: %v\n%s", err, out)
	}
	_, _, err := run(t, url, "show", "twin")
	if !errors.Is(err, errs.ErrConflict) || !strings.Contains(err.Error(), ids[1]) || !strings.Contains(err.Error(), ids[2]) {
		t.Fatalf("ambiguous name: %v", err)
	}
	out, _, err := run(t, url, "list")
	if err != nil || !strings.Contains(out, "1.5 MiB") || strings.Contains(out, "1572864") {
		t.Fatalf("list sizes:\n%s", out)
	}
	if out, _, err := run(t, url, "list", "--json"); err != nil || !strings.Contains(out, `"size": 1572864`) {
		t.Fatalf("list --json sizes:\n%s", out)
	}
	if out, _, err := run(t, url, "delete", "solo"); err != nil || !strings.Contains(out, "deleted "+ids[0]) {
		t.Fatalf("delete by name: %v %s", err, out)
	}
}

// Downloads were written densely with mode 0600.
func TestDownloadSparse(t *testing.T) {
	t.Setenv("OS_AUTH_URL", "")
	url := serve(t)
	dir := t.TempDir()
	data := make([]byte, 8<<20)
	copy(data[1<<20+100:], "boot sector somewhere in the middle")
	src := filepath.Join(dir, "sparse.raw")
	os.WriteFile(src, data, 0o600)
	if _, _, err := run(t, url, "create", "sp", "--file", src); err != nil {
		t.Fatal(err)
	}
	old := syscall.Umask(0o027)
	defer syscall.Umask(old)
	dst := filepath.Join(dir, "out.raw")
	if _, _, err := run(t, url, "download", "sp", "-o", dst); err != nil {
		t.Fatal(err)
	}
	got, _ := os.ReadFile(dst)
	st, _ := os.Stat(dst)
	if !bytes.Equal(got, data) || st.Mode().Perm() != 0o640 {
		t.Fatalf("content equal %v, mode %v (want 0640 under umask 027)", bytes.Equal(got, data), st.Mode().Perm())
	}
	if used := st.Sys().(*syscall.Stat_t).Blocks * 512; used > 1<<20 {
		t.Fatalf("8 MiB of mostly zeros uses %d bytes on disk: not sparse", used)
	}
}
