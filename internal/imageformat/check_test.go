package imageformat

import (
	"errors"
	"testing"

	"github.com/cowdisk/cowdisk/internal/errs"
)

// TestCheckDeclaredFormat: the detected format must be the declared
// disk_format; a qcow2 registered as raw is the CVE-2024-40767 shape.
func TestCheckDeclaredFormat(t *testing.T) {
	cases := []struct {
		name     string
		img      []byte
		declared string
		want     error
	}{
		{"qcow2 declared raw", qcow2Image(), "raw", errs.ErrFormatMismatch},
		{"qcow2 declared qcow2", qcow2Image(), "qcow2", nil},
		{"raw declared qcow2", randomBytes(4096), "qcow2", errs.ErrFormatMismatch},
		{"gpt declared raw", gptImage(), "raw", nil},
		{"iso declared raw", isoImage(), "raw", errs.ErrFormatMismatch},
		{"iso declared iso", isoImage(), "iso", nil},
		{"vhd declared vhd", vhdImage(), "vhd", nil},
		{"vhd declared vpc", vhdImage(), "VPC", nil},
		{"vmdk declared vhdx", vmdkImage(vmdkSparseDesc), "vhdx", errs.ErrFormatMismatch},
		{"nothing declared", qcow2Image(), "", errs.ErrFormatMismatch},
		{"unsafe declared right", qcow2Image(patch{4, be32(9)}), "qcow2", errs.ErrUnsafeImage},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			info, _ := inspectBytes(t, c.img)
			if err := Check(info, c.declared); !errors.Is(err, c.want) || (c.want == nil) != (err == nil) {
				t.Fatalf("Check(%s, %q) = %v, want %v", info.Format, c.declared, err, c.want)
			}
		})
	}
}

// TestVirtualSizeLimit: the limit is configurable and applies to raw too.
func TestVirtualSizeLimit(t *testing.T) {
	path := t.TempDir() + "/raw"
	if err := writeFile(path, randomBytes(2<<20)); err != nil {
		t.Fatal(err)
	}
	if _, err := inspectBoth(t, path, Limits{MaxVirtualSize: 2 << 20}); err != nil {
		t.Fatalf("at the limit: %v", err)
	}
	info, err := inspectBoth(t, path, Limits{MaxVirtualSize: 2<<20 - 1})
	if !errors.Is(err, errs.ErrUnsafeImage) || info.Reason != "raw virtual size 2097152 exceeds the limit of 2097151 bytes" {
		t.Fatalf("over the limit: %+v %v", info, err)
	}
}
