package imageformat

import "encoding/binary"

// VDI v1.1 header (VirtualBox), little-endian.
const (
	vdiVersion11 = 0x00010001
	vdiDynamic   = 1
	vdiFixed     = 2
)

// parseVDI accepts normal (dynamic) and fixed images; undo and differencing
// images depend on a parent.
func parseVDI(v *view, info *Info) error {
	b, err := v.at(0, 0x200)
	if err != nil {
		return err
	}
	le := binary.LittleEndian
	if version := le.Uint32(b[0x44:]); version != vdiVersion11 {
		return refuse("vdi version %#x is not 1.1", version)
	}
	info.VirtualSize = le.Uint64(b[0x170:])
	switch typ := le.Uint32(b[0x4c:]); typ {
	case vdiDynamic:
		info.Subformat = "dynamic"
	case vdiFixed:
		info.Subformat = "fixed"
	default:
		return refuse("vdi image type %d has a parent or is unknown", typ)
	}
	return nil
}
