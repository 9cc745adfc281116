package packaging

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestDeb builds the .deb with `make package` (nfpm from the Go module
// proxy) and reads it back as dpkg does: control fields, maintainer
// scripts, and every file an operator needs at its path and mode.
func TestDeb(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: builds the binary and the package (make package)")
	}
	need(t, "dpkg-deb", "dpkg")
	need(t, "make", "make")
	out := t.TempDir()
	// A version of its own: the test never depends on the checkout's tags.
	cmd := exec.Command("make", "-C", "..", "package", "VERSION=9.8.7")
	cmd.Env = append(os.Environ(), "PATH=/usr/local/go/bin:"+os.Getenv("PATH"))
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("make package: %v\n%s", err, b)
	}
	matches, _ := filepath.Glob("../bin/cowdisk_9.8.7_*.deb")
	if len(matches) != 1 {
		t.Fatalf("make package made %v, want one bin/cowdisk_9.8.7_<arch>.deb", matches)
	}
	deb := filepath.Join(out, filepath.Base(matches[0]))
	if err := os.Rename(matches[0], deb); err != nil {
		t.Fatal(err)
	}
	info := dpkgDeb(t, "-I", deb)
	for _, want := range []string{"Package: cowdisk", "Version: 9.8.7", "Depends: librados2, librbd1, qemu-utils",
		"postinst", "prerm", "postrm", "conffiles"} {
		if !strings.Contains(info, want) {
			t.Errorf("dpkg-deb -I lacks %q:\n%s", want, info)
		}
	}
	conffiles := dpkgDeb(t, "--info", deb, "conffiles")
	for _, f := range []string{"/etc/cowdisk/images.toml", "/etc/cowdisk/node.toml", "/etc/default/cowdisk-images", "/etc/default/cowdisk-node"} {
		if !strings.Contains(conffiles, f) {
			t.Errorf("%s is not a conffile (an upgrade would overwrite the operator's edits):\n%s", f, conffiles)
		}
	}
	contents := dpkgDeb(t, "-c", deb)
	for path, mode := range map[string]string{
		"./usr/bin/cowdisk":                                     "-rwxr-xr-x",
		"./lib/systemd/system/cowdisk-images.service":           "-rw-r--r--",
		"./lib/systemd/system/cowdisk-node.service":             "-rw-r--r--",
		"./etc/cowdisk/images.toml":                             "-rw-r--r--",
		"./etc/cowdisk/node.toml":                               "-rw-r--r--",
		"./etc/default/cowdisk-images":                          "-rw-r-----",
		"./etc/default/cowdisk-node":                            "-rw-r-----",
		"./usr/share/doc/cowdisk/operations.md":                 "-rw-r--r--",
		"./usr/share/doc/cowdisk/examples/images.toml":          "-rw-r--r--",
		"./usr/share/cowdisk/monitoring/cowdisk-alerts.yml":     "-rw-r--r--",
		"./usr/share/cowdisk/monitoring/cowdisk-dashboard.json": "-rw-r--r--",
	} {
		line := lineWith(contents, path)
		if line == "" || !strings.HasPrefix(line, mode) || !strings.Contains(line, "root/root") {
			t.Errorf("%s: %q, want %s root/root", path, line, mode)
		}
	}
	// The packaged binary is the one that was built, and it runs.
	x := t.TempDir()
	dpkgDeb(t, "-x", deb, x)
	if b, err := exec.Command(filepath.Join(x, "usr/bin/cowdisk"), "--version").CombinedOutput(); err != nil ||
		!strings.HasPrefix(string(b), "cowdisk version ") {
		t.Errorf("packaged cowdisk --version: %q %v", b, err)
	}
	t.Run("packaged configs run", func(t *testing.T) { runPackaged(t, x) })
}

// runPackaged starts the packaged binary with the packaged configs, as
// the units do, overriding by environment (as /etc/default/cowdisk-* would)
// only what this machine needs: addresses, directories, and file/local
// stores instead of Ceph. Both must come up ready.
func runPackaged(t *testing.T, root string) {
	bin := filepath.Join(root, "usr/bin/cowdisk")
	imagesAddr, nodeAddr := freeAddr(t), freeAddr(t)
	images := startServer(t, bin, imagesAddr, cleanEnv("COWDISK_IMAGES_LISTEN="+imagesAddr,
		"COWDISK_IMAGES_DATA_DIR="+t.TempDir(), "COWDISK_IMAGES_STORE=file"),
		"serve", "images", "--config", filepath.Join(root, "etc/cowdisk/images.toml"))
	node := startServer(t, bin, nodeAddr, cleanEnv("COWDISK_NODE_LISTEN="+nodeAddr,
		"COWDISK_NODE_BACKEND=local", "COWDISK_NODE_LOCAL_DIR="+t.TempDir(),
		"COWDISK_NODE_IMAGE_SERVICE=http://"+imagesAddr),
		"serve", "node", "--config", filepath.Join(root, "etc/cowdisk/node.toml"))
	for _, s := range []*server{images, node} {
		waitHealth(t, s, "/readyz", "ready", ready)
	}
}

func dpkgDeb(t *testing.T, args ...string) string {
	t.Helper()
	b, err := exec.Command("dpkg-deb", args...).CombinedOutput()
	if err != nil {
		t.Fatalf("dpkg-deb %s: %v\n%s", strings.Join(args, " "), err, b)
	}
	return string(b)
}

// lineWith returns the listing line ending in path.
func lineWith(listing, path string) string {
	for _, l := range strings.Split(listing, "\n") {
		if strings.HasSuffix(l, " "+path) {
			return l
		}
	}
	return ""
}
