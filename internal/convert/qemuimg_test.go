package convert

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cowdisk/cowdisk/internal/imageformat"
	"github.com/cowdisk/cowdisk/internal/imageformat/imagetest"
)

// TestQemuImgCommandLine records the command ToRaw runs (through a wrapper
// named as Prlimit): limits first, then qemu-img with -f of the detected
// format, the inspected file as /dev/fd/3 and an absolute output path.
func TestQemuImgCommandLine(t *testing.T) {
	dir := t.TempDir()
	src := filepath.Join(dir, "src.raw")
	imagetest.WriteSource(t, src, 3<<20, 40, 5)
	img := imagetest.Make(t, dir, src, imagetest.Variant{Name: "d", Format: "vpc"})
	log := filepath.Join(dir, "args")
	wrapper := filepath.Join(dir, "prlimit")
	script := "#!/bin/sh\necho \"$@\" > " + log + "\nexec prlimit \"$@\"\n"
	if err := os.WriteFile(wrapper, []byte(script), 0o700); err != nil {
		t.Fatal(err)
	}
	info, err := imageformat.InspectFile(img, imageformat.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	rel, err := filepath.Rel(mustGetwd(t), img)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ToRaw(context.Background(), rel, info, &memWriterAt{}, Options{Prlimit: wrapper, TempDir: dir}); err != nil {
		t.Fatal(err)
	}
	args := strings.Fields(string(readFile(t, log)))
	qemu, err := QemuImg()
	if err != nil || !filepath.IsAbs(qemu) {
		t.Fatalf("qemu-img: %q %v, want an absolute path", qemu, err)
	}
	want := []string{"--cpu=60", "--as=2147483648", "--", qemu, "convert", "-f", "vpc", "-O", "raw", "/dev/fd/3"}
	if len(args) != len(want)+1 || strings.Join(args[:len(want)], " ") != strings.Join(want, " ") || !filepath.IsAbs(args[len(want)]) {
		t.Fatalf("ran %q, want %q and an absolute output path", args, want)
	}
}

func mustGetwd(t *testing.T) string {
	t.Helper()
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	return wd
}
