package imageformat

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"slices"
	"strings"
)

// VHDX ([MS-VHDX]), little-endian. GUIDs are stored in their mixed-endian
// on-disk byte order.
const (
	vhdxRegionTable   = 192 << 10
	vhdxRegionLen     = 64 << 10
	vhdxMaxRegions    = 2047
	vhdxMetaTableLen  = 64 << 10
	vhdxMaxMetaItems  = 2047
	vhdxRequired      = 1
	vhdxMetaRequired  = 1 << 2
	vhdxHasParentFlag = 1 << 1
)

var (
	vhdxBATGUID        = guid("2DC27766-F623-4200-9D64-115E9BFD4A08")
	vhdxMetadataGUID   = guid("8B7CA206-4790-4B9A-B8FE-575F050F886E")
	vhdxFileParamsGUID = guid("CAA16737-FA36-4D43-B3B6-33F0AA44E76B")
	vhdxDiskSizeGUID   = guid("2FA54224-CD1B-4876-B211-5DBED83BF4B8")
	vhdxPage83GUID     = guid("BECA12AB-B2E6-4523-93EF-C309E000C746")
	vhdxLogicalGUID    = guid("8141BF1D-A96F-4709-BA47-F233A8FAAB5F")
	vhdxPhysicalGUID   = guid("CDA348C7-445D-4471-9CC9-E9885251C556")
	vhdxParentGUID     = guid("A8D35F2D-B30B-454D-ABF7-D3D84834AB0C")
)

// parseVHDX follows the region table to the metadata table and reads the
// virtual disk size from it; a parent locator means a differencing disk.
func parseVHDX(v *view, info *Info) error {
	metaOff, err := vhdxMetadataRegion(v)
	if err != nil {
		return err
	}
	sizeAt, err := vhdxMetadataItems(v, metaOff)
	if err != nil {
		return err
	}
	b, err := v.at(sizeAt, 8)
	if err != nil {
		return err
	}
	info.VirtualSize = binary.LittleEndian.Uint64(b)
	return nil
}

// vhdxMetadataItems walks the metadata table at metaOff, refuses parents and
// unknown required items, and returns where the virtual disk size is.
func vhdxMetadataItems(v *view, metaOff int64) (int64, error) {
	entries, err := vhdxTable(v, vhdxMetaTable, metaOff)
	if err != nil {
		return 0, err
	}
	le := binary.LittleEndian
	sizeAt := int64(-1)
	for _, e := range entries {
		id, off, flags := e[:16], metaOff+int64(le.Uint32(e[16:])), le.Uint32(e[24:])
		switch {
		case bytes.Equal(id, vhdxParentGUID):
			return 0, refuse("vhdx has a parent locator (differencing disk)")
		case bytes.Equal(id, vhdxDiskSizeGUID):
			sizeAt = off
		case bytes.Equal(id, vhdxFileParamsGUID):
			if err := checkVHDXFileParams(v, off); err != nil {
				return 0, err
			}
		case !knownVHDXItem(id) && flags&vhdxMetaRequired != 0:
			return 0, refuse("vhdx has an unknown required metadata item")
		}
	}
	if sizeAt < 0 {
		return 0, refuse("vhdx has no virtual disk size")
	}
	return sizeAt, nil
}

// vhdxMetadataRegion finds the metadata region in the first region table and
// refuses unknown required regions, as qemu does.
func vhdxMetadataRegion(v *view) (int64, error) {
	entries, err := vhdxTable(v, vhdxRegions, vhdxRegionTable)
	if err != nil {
		return 0, err
	}
	le := binary.LittleEndian
	meta := int64(-1)
	for _, e := range entries {
		switch {
		case bytes.Equal(e[:16], vhdxMetadataGUID):
			meta = int64(le.Uint64(e[16:]))
		case bytes.Equal(e[:16], vhdxBATGUID):
		case le.Uint32(e[28:])&vhdxRequired != 0:
			return 0, refuse("vhdx has an unknown required region")
		}
	}
	if meta < 0 {
		return 0, refuse("vhdx has no metadata region")
	}
	return meta, nil
}

// vhdxTableKind describes the two tables of 32-byte entries in a vhdx.
type vhdxTableKind struct {
	name, signature string
	size            int
	count           func([]byte) int // entry count from the table bytes
	first, max      int              // offset of the first entry, most entries
}

var (
	vhdxRegions = vhdxTableKind{"region table", "regi", vhdxRegionLen,
		func(b []byte) int { return int(binary.LittleEndian.Uint32(b[8:])) }, 16, vhdxMaxRegions}
	vhdxMetaTable = vhdxTableKind{"metadata table", "metadata", vhdxMetaTableLen,
		func(b []byte) int { return int(binary.LittleEndian.Uint16(b[10:])) }, 32, vhdxMaxMetaItems}
)

// vhdxTable reads a table at off and returns its entries.
func vhdxTable(v *view, k vhdxTableKind, off int64) ([][]byte, error) {
	b, err := v.at(off, k.size)
	if err != nil {
		return nil, err
	}
	if string(b[:len(k.signature)]) != k.signature {
		return nil, refuse("vhdx %s has no signature", k.name)
	}
	count := k.count(b)
	if count > k.max {
		return nil, refuse("vhdx %s has %d entries", k.name, count)
	}
	entries := make([][]byte, count)
	for i := range entries {
		entries[i] = b[k.first+32*i : k.first+32*i+32]
	}
	return entries, nil
}

func checkVHDXFileParams(v *view, off int64) error {
	b, err := v.at(off, 8)
	if err != nil {
		return err
	}
	if binary.LittleEndian.Uint32(b[4:])&vhdxHasParentFlag != 0 {
		return refuse("vhdx has a parent (differencing disk)")
	}
	return nil
}

func knownVHDXItem(id []byte) bool {
	for _, k := range [][]byte{vhdxFileParamsGUID, vhdxDiskSizeGUID, vhdxPage83GUID, vhdxLogicalGUID, vhdxPhysicalGUID} {
		if bytes.Equal(id, k) {
			return true
		}
	}
	return false
}

// guid turns "XXXXXXXX-XXXX-XXXX-XXXX-XXXXXXXXXXXX" into its on-disk bytes:
// the first three groups little-endian, the rest as written.
func guid(s string) []byte {
	g, err := hex.DecodeString(strings.ReplaceAll(s, "-", ""))
	if err != nil || len(g) != 16 {
		panic("bad guid " + s)
	}
	slices.Reverse(g[0:4])
	slices.Reverse(g[4:6])
	slices.Reverse(g[6:8])
	return g
}
