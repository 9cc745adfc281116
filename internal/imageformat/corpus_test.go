package imageformat

import (
	"errors"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/cowdisk/cowdisk/internal/errs"
)

// TestCorpusRefusals: one crafted image per refusal; each is refused with
// errs.ErrUnsafeImage and a message naming the reason, through the stream
// Inspector and through random access alike.
func TestCorpusRefusals(t *testing.T) {
	sparse := func(old, new string) string { return strings.Replace(vmdkSparseDesc, old, new, 1) }
	huge := uint64(8 << 40)
	cases := []struct {
		name, reason string
		img          []byte
	}{
		{"empty", "image is empty", nil},
		{"7-byte qcow2", "qcow2 image is truncated", str("QFI\xfb\x00\x00\x00")},
		{"header-only qcow2", "qcow2 image is truncated", qcow2Image()[:104]},
		{"qcow2 cut before its L1 table", "qcow2 L1 table", qcow2Image()[:0x30004]},
		{"qcow2 backing file", "qcow2 has a backing file", qcow2Image(patch{8, be64(0x200)}, patch{16, be32(8)}, patch{0x200, str("sentinel")})},
		{"qcow2 data-file bit", "external data file bit", qcow2Image(patch{72, be64(qcow2IncompatData)})},
		{"qcow2 data-file extension", "data-file extension", qcow2Image(patch{104, be32(qcow2ExtDataFile)}, patch{108, be32(8)}, patch{112, str("sentinel")})},
		{"qcow2 version 1", "qcow2 version 1 is not 2 or 3", qcow2Image(patch{4, be32(1)})},
		{"qcow2 version 4", "qcow2 version 4 is not 2 or 3", qcow2Image(patch{4, be32(4)})},
		{"qcow2 unknown incompatible bit", "unknown incompatible feature bits 0x20", qcow2Image(patch{72, be64(1 << 5)})},
		{"qcow2 cluster_bits 8", "cluster_bits 8 outside 9..21", qcow2Image(patch{20, be32(8)})},
		{"qcow2 cluster_bits 22", "cluster_bits 22 outside 9..21", qcow2Image(patch{20, be32(22)})},
		{"qcow2 L1 beyond file", "larger than the file could hold", qcow2Image(patch{36, be32(100000)})},
		{"qcow2 L1 over qemu limit", "larger than qemu allows", qcow2Image(patch{24, be64(huge)}, patch{36, be32(5 << 20)})},
		{"qcow2 L1 too small", "too small for the virtual size", qcow2Image(patch{24, be64(1 << 40)})},
		{"qcow2 encrypted", "qcow2 is encrypted", qcow2Image(patch{32, be32(1)})},
		{"qcow2 corrupt", "marked corrupt", qcow2Image(patch{72, be64(qcow2IncompatCorrupt)})},
		{"qcow2 virtual size over limit", "exceeds the limit", append(qcow2Image(patch{24, be64(huge)}, patch{36, be32(16384)}), make([]byte, 0x10000)...)},
		{"qed", "qed images are not accepted", build(4096, patch{0, str("QED\x00")})},
		{"vmdk createType monolithicFlat", `createType "monolithicFlat"`, vmdkImage(sparse("monolithicSparse", "monolithicFlat"))},
		{"vmdk createType twoGbMaxExtentSparse", "is not monolithicSparse or streamOptimized", vmdkImage(sparse("monolithicSparse", "twoGbMaxExtentSparse"))},
		{"vmdk descriptor not at 0x200", "descriptor is not at 0x200", vmdkImage(vmdkSparseDesc, patch{28, le64(2)})},
		{"vmdk descriptor file", "descriptor is not at 0x200", str(vmdkDescriptorText + "\nRW 2048 FLAT \"/etc/hosts\" 0\n")},
		{"vmdk descriptor over 1 MiB", "over 1 MiB", vmdkImage(vmdkSparseDesc, patch{36, le64(2049)})},
		{"vmdk no descriptor", "no embedded descriptor", vmdkImage(vmdkSparseDesc, patch{36, le64(0)})},
		{"vmdk unknown line", `unknown line "shell rm -rf"`, vmdkImage(vmdkSparseDesc + "shell rm -rf\n")},
		{"vmdk unknown key", `unknown line "evil=1"`, vmdkImage(vmdkSparseDesc + "evil=1\n")},
		{"vmdk extent with slash", "names a path with /", vmdkImage(sparse(`"disk.vmdk"`, `"/etc/hosts"`))},
		{"vmdk flat extent", `extent type "FLAT"`, vmdkImage(sparse(`SPARSE "disk.vmdk"`, `FLAT "disk.vmdk" 0`))},
		{"vmdk no extents", "no extents", vmdkImage(sparse(`RW 2048 SPARSE "disk.vmdk"`, ""))},
		{"vmdk parent", "vmdk has a parent", vmdkImage(sparse("parentCID=ffffffff", "parentCID=12345678"))},
		{"vmdk stream footer missing", "footer markers are bad", vmdkStreamImage(patch{-1536 + 12, le32(0)})},
		{"vmdk stream footer magic", "footer has no magic", vmdkStreamImage(patch{-1024, str("XXXX")})},
		{"vmdk stream footer gd", "grain directory offset", vmdkStreamImage(patch{-1024 + 56, le64(^uint64(0))})},
		{"vmdk stream footer capacity", "differs from the header", vmdkStreamImage(patch{-1024 + 12, le64(4096)})},
		{"vmdk truncated descriptor", "vmdk image is truncated", vmdkImage(vmdkSparseDesc)[:1024]},
		{"vhd differencing", "differencing disk with a parent", vhdImage(patch{60, be32(4)}, patch{-512 + 60, be32(4)})},
		{"vhd unknown type", "disk type 7 is unknown", vhdImage(patch{60, be32(7)})},
		{"vhdx parent locator", "parent locator", vhdxImage(patch{vhdxMeta + 64, vhdxParentGUID})},
		{"vhdx has-parent flag", "vhdx has a parent", vhdxImage(patch{vhdxItems + 4, le32(vhdxHasParentFlag)})},
		{"vhdx unknown required region", "unknown required region", vhdxImage(patch{vhdxRegionTable + 8, le32(2)}, patch{vhdxRegionTable + 48, str("0123456789abcdef")}, patch{vhdxRegionTable + 76, le32(1)})},
		{"vhdx truncated", "vhdx image is truncated", vhdxImage()[:vhdxMeta+100]},
		{"vdi differencing", "vdi image type 4", vdiImage(patch{0x4c, le32(4)})},
		{"vdi version", "vdi version 0x10000 is not 1.1", vdiImage(patch{0x44, le32(0x00010000)})},
		{"vdi truncated", "vdi image is truncated", vdiImage()[:100]},
		{"luks v2", "luks version 2 is not 1", luksImage(patch{6, be16(2)})},
		{"luks truncated", "luks image is truncated", luksImage()[:1024]},
		{"gpt without boot signature", "no boot signature", gptImage(patch{510, []byte{0, 0}})},
		{"gpt without 0xEE partition", "no 0xEE partition", gptImage(patch{450, []byte{0x83}})},
		{"gpt bad boot flag", "boot flag 0x7", gptImage(patch{446, []byte{7}})},
		{"iso with qcow2 header", "more than one format: iso, qcow2", isoImage(patch{0, qcow2Image()[:4096]})},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			info, err := inspectBytes(t, c.img)
			if !errors.Is(err, errs.ErrUnsafeImage) || info.Safe || !strings.Contains(err.Error(), c.reason) {
				t.Fatalf("got %+v, %v; want a refusal naming %q", info, err, c.reason)
			}
			if cerr := Check(info, string(info.Format)); !errors.Is(cerr, errs.ErrUnsafeImage) {
				t.Fatalf("Check passed an unsafe image: %v", cerr)
			}
		})
	}
}

// TestCorpusAccepted: the unmodified builders are safe, so each refusal
// above is caused by its patch alone.
func TestCorpusAccepted(t *testing.T) {
	cases := []struct {
		name   string
		img    []byte
		format Format
		size   uint64
	}{
		{"qcow2", qcow2Image(), QCOW2, 1 << 20},
		{"vmdk", vmdkImage(vmdkSparseDesc), VMDK, 1 << 20},
		{"vmdk stream footer", vmdkStreamImage(), VMDK, 1 << 20},
		{"vhd", vhdImage(), VHD, 1 << 20},
		{"vhdx", vhdxImage(), VHDX, 1 << 20},
		{"vhdx metadata straddling the head window", vhdxImageAt(headSize - 4096), VHDX, 1 << 20},
		{"vdi", vdiImage(), VDI, 1 << 20},
		{"luks", luksImage(), LUKS, 4096},
		{"gpt", gptImage(), GPT, 64 << 10},
		{"iso", isoImage(), ISO, 64 << 10},
		{"udf iso", build(64<<10, patch{0x8000, str("\x00BEA01\x01")}, patch{0x8800, str("\x00NSR02\x01")}), ISO, 64 << 10},
		{"hybrid iso with gpt is iso", isoImage(patch{0, gptImage()[:4096]}), ISO, 64 << 10},
		{"7 random bytes", str("\x01\x02\x03\x04\x05\x06\x07"), Raw, 7},
		{"random bytes", randomBytes(1<<20 + 3), Raw, 1<<20 + 3},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			info, err := inspectBytes(t, c.img)
			if err != nil || info.Format != c.format || info.VirtualSize != c.size || !info.Safe {
				t.Fatalf("got %+v, %v; want safe %s of %d bytes", info, err, c.format, c.size)
			}
		})
	}
}

func randomBytes(n int) []byte {
	rng := rand.New(rand.NewPCG(42, 43))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(rng.Uint32())
	}
	return b
}
