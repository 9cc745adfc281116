package imageformat

import (
	"encoding/binary"
	"strings"
)

// The bad-image corpus is built here from byte patches over minimal valid
// images, so no binary test file is committed and every case says exactly
// which bytes make it bad.

// patch writes b at off; a negative off counts from the end of the image.
type patch struct {
	off int64
	b   []byte
}

func build(size int64, patches ...patch) []byte {
	img := make([]byte, size)
	for _, p := range patches {
		off := p.off
		if off < 0 {
			off += size
		}
		copy(img[off:], p.b)
	}
	return img
}

func be16(v uint16) []byte { return binary.BigEndian.AppendUint16(nil, v) }
func be32(v uint32) []byte { return binary.BigEndian.AppendUint32(nil, v) }
func be64(v uint64) []byte { return binary.BigEndian.AppendUint64(nil, v) }
func le16(v uint16) []byte { return binary.LittleEndian.AppendUint16(nil, v) }
func le32(v uint32) []byte { return binary.LittleEndian.AppendUint32(nil, v) }
func le64(v uint64) []byte { return binary.LittleEndian.AppendUint64(nil, v) }
func str(s string) []byte  { return []byte(s) }

// qcow2Image is a v3 qcow2 of 1 MiB with 64 KiB clusters and its one-entry
// L1 table in cluster 3; mods are applied on top.
func qcow2Image(mods ...patch) []byte {
	return build(0x40000, append([]patch{
		{0, str("QFI\xfb")}, {4, be32(3)}, {20, be32(16)}, {24, be64(1 << 20)},
		{36, be32(1)}, {40, be64(0x30000)}, {100, be32(104)},
	}, mods...)...)
}

const vmdkSparseDesc = `# Disk DescriptorFile
version=1
CID=7e457f5b
parentCID=ffffffff
createType="monolithicSparse"

# Extent description
RW 2048 SPARSE "disk.vmdk"

ddb.virtualHWVersion = "4"
ddb.adapterType = "ide"
`

// vmdkImage is a sparse vmdk of 1 MiB with desc embedded at 0x200.
func vmdkImage(desc string, mods ...patch) []byte {
	return build(64<<10, append([]patch{
		{0, str("KDMV")}, {4, le32(1)}, {8, le32(3)}, {12, le64(2048)}, {20, le64(128)},
		{28, le64(1)}, {36, le64(20)}, {44, le32(512)}, {56, le64(21)}, {64, le64(128)},
		{512, str(desc)},
	}, mods...)...)
}

// vmdkStreamImage is a streamOptimized vmdk whose grain directory is in the
// footer, with a valid footer marker, footer and end-of-stream marker.
func vmdkStreamImage(mods ...patch) []byte {
	desc := strings.Replace(vmdkSparseDesc, "monolithicSparse", "streamOptimized", 1)
	return vmdkImage(desc, append([]patch{
		{56, le64(^uint64(0))},
		{-1536 + 12, le32(3)},
		{-1024, str("KDMV")}, {-1024 + 12, le64(2048)}, {-1024 + 56, le64(30)},
	}, mods...)...)
}

// vhdImage is a dynamic vhd of 1 MiB (footer copy at 0 and at the end).
func vhdImage(mods ...patch) []byte {
	footer := []patch{
		{0, str("conectix")}, {28, str("qemu")}, {48, be64(1 << 20)},
		{56, be16(32)}, {58, []byte{4, 16}}, {60, be32(3)},
	}
	var all []patch
	for _, p := range footer {
		all = append(all, p, patch{p.off - 512, p.b})
	}
	return build(64<<10, append(all, mods...)...)
}

// vhdx layout of vhdxImage: region table at 192 KiB pointing at a metadata
// region at 1 MiB, whose items (file parameters, virtual disk size) sit
// 64 KiB into it. The stream Inspector must capture them as they pass.
const (
	vhdxMeta     = 1 << 20
	vhdxItems    = vhdxMeta + 64<<10
	vhdxFileSize = vhdxItems + 64
)

func vhdxImage(mods ...patch) []byte { return vhdxImageAt(vhdxMeta, mods...) }

// vhdxImageAt puts the metadata region at meta instead.
func vhdxImageAt(meta int64, mods ...patch) []byte {
	items := meta + 64<<10
	return build(items+64, append([]patch{
		{0, str("vhdxfile")},
		{vhdxRegionTable, str("regi")}, {vhdxRegionTable + 8, le32(1)},
		{vhdxRegionTable + 16, vhdxMetadataGUID}, {vhdxRegionTable + 32, le64(uint64(meta))},
		{vhdxRegionTable + 40, le32(1 << 20)}, {vhdxRegionTable + 44, le32(1)},
		{meta, str("metadata")}, {meta + 10, le16(2)},
		{meta + 32, vhdxFileParamsGUID}, {meta + 48, le32(64 << 10)}, {meta + 52, le32(8)}, {meta + 56, le32(4)},
		{meta + 64, vhdxDiskSizeGUID}, {meta + 80, le32(64<<10 + 8)}, {meta + 84, le32(8)}, {meta + 88, le32(6)},
		{items, le32(32 << 20)}, {items + 8, le64(1 << 20)},
	}, mods...)...)
}

func vdiImage(mods ...patch) []byte {
	return build(4096, append([]patch{
		{0, str("<<< Oracle VM VirtualBox Disk Image >>>\n")}, {0x40, le32(0xbeda107f)},
		{0x44, le32(0x00010001)}, {0x48, le32(0x190)}, {0x4c, le32(1)}, {0x170, le64(1 << 20)},
	}, mods...)...)
}

func luksImage(mods ...patch) []byte {
	return build(8192, append([]patch{{0, str("LUKS\xba\xbe")}, {6, be16(1)}, {104, be32(8)}}, mods...)...)
}

// gptImage is a 64 KiB disk with a protective MBR and a GPT header.
func gptImage(mods ...patch) []byte {
	return build(64<<10, append([]patch{{450, []byte{0xee}}, {510, []byte{0x55, 0xaa}}, {512, str("EFI PART")}}, mods...)...)
}

// isoImage has a primary volume descriptor at 32 KiB.
func isoImage(mods ...patch) []byte {
	return build(64<<10, append([]patch{{0x8000, str("\x01CD001\x01")}}, mods...)...)
}
