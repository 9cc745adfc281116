// Package imageformat tells what a disk image really is before anything
// trusts it.
//
// Disk images are hostile input: a qcow2 can name a backing file or an
// external data file and make a converter read any file on the host
// (CVE-2024-32498, CVE-2015-5163), a VMDK descriptor can name /etc/hosts as
// its extent (CVE-2022-47951), an image registered as raw can really be a
// qcow2 (CVE-2024-40767), and a tiny file can claim a virtual size of
// exabytes. The Inspector recognises raw, qcow2, qed, vhd, vhdx, vmdk, vdi,
// iso, gpt and luks from the bytes alone, never from a name or a declared
// format, and refuses everything a converter could be tricked by.
//
// The Inspector is an io.Writer so it can sit in an io.TeeReader while an
// upload or a download streams past; it keeps only bounded windows of the
// stream (the head, the regions its parsers ask for, the last bytes) and never
// opens a file named inside an image.
package imageformat

import (
	"fmt"

	"github.com/cowdisk/cowdisk/internal/errs"
)

// Format is a detected image format. The names match Glance's disk_format
// values where one exists (vhd is qemu's "vpc").
type Format string

// The formats the Inspector knows. Raw is the answer when nothing else
// matches; gpt is a raw disk with a GUID partition table.
const (
	Raw   Format = "raw"
	QCOW2 Format = "qcow2"
	QED   Format = "qed"
	VHD   Format = "vhd"
	VHDX  Format = "vhdx"
	VMDK  Format = "vmdk"
	VDI   Format = "vdi"
	ISO   Format = "iso"
	GPT   Format = "gpt"
	LUKS  Format = "luks"
)

// QemuName is the name qemu-img's -f flag uses for the format.
func (f Format) QemuName() string {
	switch f {
	case VHD:
		return "vpc"
	case GPT, ISO:
		return "raw"
	}
	return string(f)
}

// DefaultMaxVirtualSize bounds the virtual size when Limits leaves it zero:
// large enough for any real boot disk, small enough that a forged header
// cannot make a converter allocate or write exabytes.
const DefaultMaxVirtualSize = 4 << 40

// Limits bounds what the Inspector accepts.
type Limits struct {
	// MaxVirtualSize is the largest virtual size accepted; zero means
	// DefaultMaxVirtualSize.
	MaxVirtualSize uint64
}

func (l Limits) maxVirtualSize() uint64 {
	if l.MaxVirtualSize == 0 {
		return DefaultMaxVirtualSize
	}
	return l.MaxVirtualSize
}

// Info is what the Inspector found out about an image.
type Info struct {
	// Format is the detected format (raw when nothing matched).
	Format Format
	// VirtualSize is the size of the disk the image describes, in bytes, as
	// qemu-img would report it; a conversion to raw must produce exactly this.
	VirtualSize uint64
	// FileSize is the number of bytes of the image itself.
	FileSize uint64
	// Safe is false when the image must not be converted or used; Reason says why.
	Safe bool
	// Reason names why the image is unsafe ("qcow2 has a backing file").
	Reason string
	// ClusterBits is log2 of the qcow2 cluster size (0 for other formats).
	ClusterBits uint32
	// Compression is the qcow2 compression type ("zlib" or "zstd"); whether
	// any cluster is compressed is only known while converting.
	Compression string
	// Subformat names the variant: vmdk createType, vhd "fixed"/"dynamic",
	// vdi "dynamic"/"fixed".
	Subformat string
}

// Err returns nil for a safe image and otherwise an error wrapping
// errs.ErrUnsafeImage that names the reason.
func (i Info) Err() error {
	if i.Safe {
		return nil
	}
	return fmt.Errorf("%w: %s", errs.ErrUnsafeImage, i.Reason)
}

// refusal is how parsers say "unsafe": it carries the reason only and is
// turned into Info.Safe=false by the Inspector.
type refusal struct{ reason string }

func (r *refusal) Error() string { return r.reason }

func refuse(format string, args ...any) error {
	return &refusal{reason: fmt.Sprintf(format, args...)}
}
