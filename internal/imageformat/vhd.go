package imageformat

import "encoding/binary"

// VHD footer ("Virtual Hard Disk Image Format Specification"), big-endian.
const (
	vhdMagic          = "conectix"
	vhdFooterLen      = 512
	vhdFixed          = 2
	vhdDynamic        = 3
	vhdDifferencing   = 4
	vhdMaxGeomSectors = 65535 * 16 * 255
)

// A dynamic vhd starts with a copy of its footer; a fixed vhd has only the
// footer in its last 512 bytes, so it is recognised once the stream ends.
func matchVHD(v *view) bool {
	if magicAt(0, vhdMagic)(v) {
		return true
	}
	return v.size >= vhdFooterLen && magicAt(v.size-vhdFooterLen, vhdMagic)(v)
}

// parseVHD reads the footer where qemu does (the copy at 0 first) and refuses
// differencing disks, which name a parent file.
func parseVHD(v *view, info *Info) error {
	off := int64(0)
	if !magicAt(0, vhdMagic)(v) {
		off = v.size - vhdFooterLen
	}
	b, err := v.at(off, vhdFooterLen)
	if err != nil {
		return err
	}
	be := binary.BigEndian
	info.VirtualSize = vhdVirtualSize(b)
	switch be.Uint32(b[60:]) {
	case vhdFixed:
		info.Subformat = "fixed"
	case vhdDynamic:
		info.Subformat = "dynamic"
	case vhdDifferencing:
		return refuse("vhd is a differencing disk with a parent")
	default:
		return refuse("vhd disk type %d is unknown", be.Uint32(b[60:]))
	}
	return nil
}

// vhdVirtualSize mirrors qemu's block/vpc.c: Virtual PC and qemu size a disk
// by its CHS geometry, Hyper-V and others by current_size; the maximum
// geometry means current_size too. A mismatch would fail the size check
// after conversion.
func vhdVirtualSize(b []byte) uint64 {
	be := binary.BigEndian
	current := be.Uint64(b[48:])
	cyls, heads, secs := uint64(be.Uint16(b[56:])), uint64(b[58]), uint64(b[59])
	chs := cyls * heads * secs
	switch string(b[28:32]) {
	case "win ", "qem2", "d2v ", "CTXS", "tap\x00":
		return current
	}
	if chs == vhdMaxGeomSectors {
		return current
	}
	return chs * 512
}
