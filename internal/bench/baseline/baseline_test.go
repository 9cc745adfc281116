package baseline

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// fakeRBD writes a stand-in for the rbd CLI that copies the imported file to
// $dir/<pool>_<name> and records its arguments, so the pipeline can be tested
// without a cluster.
func fakeRBD(t *testing.T) (tools Tools, out string) {
	t.Helper()
	dir := t.TempDir()
	script := filepath.Join(dir, "rbd")
	body := `#!/bin/sh
echo "$@" > "` + dir + `/args"
for last; do :; done
src=""
prev=""
for a; do [ "$a" = "$last" ] && src="$prev"; prev="$a"; done
cp "$src" "` + dir + `/$(echo "$last" | tr / _)"
`
	if err := os.WriteFile(script, []byte(body), 0o755); err != nil {
		t.Fatal(err)
	}
	return Tools{RBD: script, QemuImg: "qemu-img", Ceph: Ceph{Conf: "/c/ceph.conf", Keyring: "/c/key", User: "admin"}}, dir
}

func TestRBDImportArgs(t *testing.T) {
	tools, dir := fakeRBD(t)
	src := filepath.Join(t.TempDir(), "img.raw")
	os.WriteFile(src, []byte("data"), 0o644)
	if _, err := tools.RBDImport(context.Background(), src, "vms", "x"); err != nil {
		t.Fatal(err)
	}
	args, _ := os.ReadFile(filepath.Join(dir, "args"))
	want := "--conf /c/ceph.conf --keyring /c/key --id admin import --no-progress " + src + " vms/x"
	if strings.TrimSpace(string(args)) != want {
		t.Fatalf("rbd args %q, want %q", args, want)
	}
}

func TestRBDTarget(t *testing.T) {
	tools := Tools{Ceph: Ceph{Conf: "/a:b/ceph.conf", Keyring: "/k", User: "admin"}}
	got := tools.RBDTarget("vms", "d1")
	want := `rbd:vms/d1:conf=/a\:b/ceph.conf:id=admin:keyring=/k`
	if got != want {
		t.Fatalf("RBDTarget = %q, want %q", got, want)
	}
}

func TestNaive(t *testing.T) {
	if _, err := exec.LookPath("qemu-img"); err != nil {
		t.Skip("qemu-img not installed")
	}
	src := t.TempDir()
	raw := filepath.Join(src, "img.raw")
	content := bytes.Repeat([]byte("cowdisk!"), 128<<10) // 1 MiB
	os.WriteFile(raw, content, 0o644)
	qcow := filepath.Join(src, "img.qcow2")
	if out, err := exec.Command("qemu-img", "convert", "-f", "raw", "-O", "qcow2", raw, qcow).CombinedOutput(); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	var gotToken string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		gotToken = r.Header.Get("X-Auth-Token")
		http.ServeFile(w, r, filepath.Join(src, strings.TrimPrefix(r.URL.Path, "/")))
	}))
	defer srv.Close()

	tests := []struct {
		file, format string
		converts     bool
	}{{"img.raw", "raw", false}, {"img.qcow2", "qcow2", true}}
	for _, tt := range tests {
		t.Run(tt.format, func(t *testing.T) {
			tools, out := fakeRBD(t)
			work := t.TempDir()
			d := Download{URL: srv.URL + "/" + tt.file, Header: http.Header{"X-Auth-Token": {"tok"}}}
			tm, err := tools.Naive(context.Background(), d, tt.format, work, "vms", "n1")
			if err != nil {
				t.Fatal(err)
			}
			if got, _ := os.ReadFile(filepath.Join(out, "vms_n1")); !bytes.Equal(got, content) {
				t.Fatalf("imported %d bytes, not the image's raw content", len(got))
			}
			if (tm.Convert > 0) != tt.converts || tm.Download <= 0 || tm.Total < tm.Download+tm.Convert {
				t.Errorf("timing %+v", tm)
			}
			if left, _ := os.ReadDir(work); len(left) != 0 {
				t.Errorf("local files left behind: %v", left)
			}
			if gotToken != "tok" {
				t.Errorf("token header %q not sent", gotToken)
			}
		})
	}
}

func TestNaiveDownloadFailure(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	defer srv.Close()
	tools, _ := fakeRBD(t)
	work := t.TempDir()
	if _, err := tools.Naive(context.Background(), Download{URL: srv.URL + "/x"}, "raw", work, "vms", "n"); err == nil {
		t.Fatal("404 download succeeded")
	}
	if left, _ := os.ReadDir(work); len(left) != 0 {
		t.Errorf("local files left behind: %v", left)
	}
}
