//go:build ignore

// gen_seeds writes the fuzz seed corpora in testdata/fuzz from images that
// qemu-img and sgdisk make, in the (head, tail, size) shape of the
// head/tail fuzz targets. Run from this directory: go run gen_seeds.go
package main

import (
	"bytes"
	"fmt"
	"log"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
)

type seed struct {
	target, name string
	make         []string // command; IMG is replaced by the image path
}

var seeds = []seed{
	{"FuzzQCOW2", "v3", []string{"qemu-img", "create", "-f", "qcow2", "IMG", "3M"}},
	{"FuzzQCOW2", "v2", []string{"qemu-img", "create", "-f", "qcow2", "-o", "compat=0.10", "IMG", "3M"}},
	{"FuzzQCOW2", "zstd-512", []string{"qemu-img", "create", "-f", "qcow2", "-o", "compression_type=zstd,cluster_size=512", "IMG", "1M"}},
	{"FuzzQCOW2", "extl2", []string{"qemu-img", "create", "-f", "qcow2", "-o", "extended_l2=on", "IMG", "3M"}},
	{"FuzzQCOW2", "backing", []string{"qemu-img", "create", "-f", "qcow2", "-u", "-b", "/etc/hosts", "-F", "raw", "IMG", "1M"}},
	{"FuzzQCOW2", "datafile", []string{"qemu-img", "create", "-f", "qcow2", "-o", "data_file=IMG.data", "IMG", "1M"}},
	{"FuzzQED", "qed", []string{"qemu-img", "create", "-f", "qed", "IMG", "1M"}},
	{"FuzzVMDK", "sparse", []string{"qemu-img", "create", "-f", "vmdk", "IMG", "1M"}},
	{"FuzzVMDK", "stream", []string{"qemu-img", "create", "-f", "vmdk", "-o", "subformat=streamOptimized", "IMG", "1M"}},
	{"FuzzVMDK", "flat", []string{"qemu-img", "create", "-f", "vmdk", "-o", "subformat=monolithicFlat", "IMG", "1M"}},
	{"FuzzVHD", "dynamic", []string{"qemu-img", "create", "-f", "vpc", "IMG", "1M"}},
	{"FuzzVHD", "fixed", []string{"qemu-img", "create", "-f", "vpc", "-o", "subformat=fixed", "IMG", "1M"}},
	{"FuzzVDI", "dynamic", []string{"qemu-img", "create", "-f", "vdi", "IMG", "1M"}},
	{"FuzzVDI", "static", []string{"qemu-img", "create", "-f", "vdi", "-o", "static=on", "IMG", "1M"}},
	{"FuzzGPT", "sgdisk", []string{"sh", "-c", "truncate -s 1M IMG && sgdisk -o -n 1:0:0 IMG >/dev/null"}},
}

func main() {
	dir, err := os.MkdirTemp("", "seeds")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	for _, s := range seeds {
		img := filepath.Join(dir, s.target+"-"+s.name)
		args := make([]string, len(s.make))
		for i, a := range s.make {
			args[i] = string(bytes.ReplaceAll([]byte(a), []byte("IMG"), []byte(img)))
		}
		if out, err := exec.Command(args[0], args[1:]...).CombinedOutput(); err != nil {
			log.Fatalf("%v: %v\n%s", args, err, out)
		}
		b, err := os.ReadFile(img)
		if err != nil {
			log.Fatal(err)
		}
		if err := write(s.target, s.name, b); err != nil {
			log.Fatal(err)
		}
	}
}

// write stores b as a (head, tail, size) seed: the first 16 KiB without
// trailing zeros, the last 2 KiB unless all zero, and the size.
func write(target, name string, b []byte) error {
	head := bytes.TrimRight(b[:min(len(b), 16<<10)], "\x00")
	tail := b[len(b)-min(len(b), 2<<10):]
	if len(bytes.Trim(tail, "\x00")) == 0 {
		tail = nil
	}
	text := fmt.Sprintf("go test fuzz v1\n[]byte(%s)\n[]byte(%s)\nuint32(%d)\n",
		strconv.Quote(string(head)), strconv.Quote(string(tail)), len(b))
	path := filepath.Join("testdata", "fuzz", target, "qemu-"+name)
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	return os.WriteFile(path, []byte(text), 0o644)
}
