package imageformat

import "encoding/binary"

// qcow2 header fields (docs/interop/qcow2.txt in qemu), big-endian.
const (
	qcow2V2HeaderLen     = 72
	qcow2V3HeaderLen     = 104
	qcow2MaxL1Bytes      = 32 << 20 // qemu's QCOW_MAX_L1_SIZE
	qcow2ExtEnd          = 0
	qcow2ExtDataFile     = 0x44415441
	qcow2MaxExtensions   = 256
	qcow2IncompatDirty   = 1 << 0
	qcow2IncompatCorrupt = 1 << 1
	qcow2IncompatData    = 1 << 2
	qcow2IncompatCompr   = 1 << 3
	qcow2IncompatExtL2   = 1 << 4
	qcow2IncompatKnown   = qcow2IncompatDirty | qcow2IncompatCorrupt | qcow2IncompatData | qcow2IncompatCompr | qcow2IncompatExtL2
)

type qcow2Header struct {
	version, clusterBits, cryptMethod, l1Size, headerLen uint32
	backingOffset, size, l1Offset, incompatible          uint64
	compression                                          byte
}

func readQCOW2Header(v *view) (qcow2Header, error) {
	b, err := v.at(0, qcow2V2HeaderLen)
	if err != nil {
		return qcow2Header{}, err
	}
	be := binary.BigEndian
	h := qcow2Header{
		version:       be.Uint32(b[4:]),
		backingOffset: be.Uint64(b[8:]),
		clusterBits:   be.Uint32(b[20:]),
		size:          be.Uint64(b[24:]),
		cryptMethod:   be.Uint32(b[32:]),
		l1Size:        be.Uint32(b[36:]),
		l1Offset:      be.Uint64(b[40:]),
		headerLen:     qcow2V2HeaderLen,
	}
	if h.version != 3 {
		return h, nil
	}
	b, err = v.at(0, qcow2V3HeaderLen)
	if err != nil {
		return h, err
	}
	h.incompatible = be.Uint64(b[72:])
	h.headerLen = be.Uint32(b[100:])
	if h.headerLen > qcow2V3HeaderLen {
		c, err := v.at(qcow2V3HeaderLen, 1)
		if err != nil {
			return h, err
		}
		h.compression = c[0]
	}
	return h, nil
}

// parseQCOW2 refuses everything that would make a qcow2 reader touch another
// file or trust a forged size: backing files, external data files, unknown
// incompatible features, encryption, absurd cluster sizes and L1 tables.
func parseQCOW2(v *view, info *Info) error {
	h, err := readQCOW2Header(v)
	if err != nil {
		return err
	}
	info.VirtualSize = h.size
	info.ClusterBits = h.clusterBits
	if err := checkQCOW2Header(h); err != nil {
		return err
	}
	info.Compression = [...]string{"zlib", "zstd"}[h.compression]
	if err := checkQCOW2Extensions(v, h); err != nil {
		return err
	}
	return checkQCOW2L1(v, h)
}

func checkQCOW2Header(h qcow2Header) error {
	switch {
	case h.version != 2 && h.version != 3:
		return refuse("qcow2 version %d is not 2 or 3", h.version)
	case h.backingOffset != 0:
		return refuse("qcow2 has a backing file")
	case h.clusterBits < 9 || h.clusterBits > 21:
		return refuse("qcow2 cluster_bits %d outside 9..21", h.clusterBits)
	case h.cryptMethod != 0:
		return refuse("qcow2 is encrypted (crypt_method %d)", h.cryptMethod)
	case h.incompatible&qcow2IncompatData != 0:
		return refuse("qcow2 has the external data file bit set")
	case h.incompatible&qcow2IncompatCorrupt != 0:
		return refuse("qcow2 is marked corrupt")
	case h.incompatible&^qcow2IncompatKnown != 0:
		return refuse("qcow2 has unknown incompatible feature bits %#x", h.incompatible&^qcow2IncompatKnown)
	case h.version == 3 && (h.headerLen < qcow2V3HeaderLen || h.headerLen%8 != 0 || h.headerLen >= 1<<h.clusterBits):
		return refuse("qcow2 header_length %d is invalid", h.headerLen)
	case h.compression > 1:
		return refuse("qcow2 compression type %d is unknown", h.compression)
	}
	return nil
}

// checkQCOW2Extensions walks the header extensions in cluster 0 and refuses a
// data-file extension: a qcow2 reader would open that file by name.
func checkQCOW2Extensions(v *view, h qcow2Header) error {
	off := int64(h.headerLen)
	clusterEnd := int64(1) << h.clusterBits
	for range qcow2MaxExtensions {
		if off+8 > clusterEnd {
			return refuse("qcow2 header extensions run past the first cluster")
		}
		b, err := v.at(off, 8)
		if err != nil {
			return err
		}
		typ, length := binary.BigEndian.Uint32(b), int64(binary.BigEndian.Uint32(b[4:]))
		switch typ {
		case qcow2ExtEnd:
			return nil
		case qcow2ExtDataFile:
			return refuse("qcow2 has a data-file extension")
		}
		off += 8 + (length+7)&^7
	}
	return refuse("qcow2 has more than %d header extensions", qcow2MaxExtensions)
}

// checkQCOW2L1 refuses an L1 table that cannot map the virtual size, that is
// larger than qemu allows, or that lies beyond the end of the file: a tiny
// file claiming a huge disk.
func checkQCOW2L1(v *view, h qcow2Header) error {
	clusterSize := uint64(1) << h.clusterBits
	perL2 := clusterSize * (clusterSize / 8) // bytes one L1 entry maps
	if h.size > 1<<62 {
		return refuse("qcow2 virtual size %d is absurd", h.size)
	}
	needed := (h.size + perL2 - 1) / perL2
	l1Bytes := uint64(h.l1Size) * 8
	switch {
	case uint64(h.l1Size) < needed:
		return refuse("qcow2 L1 table (%d entries) is too small for the virtual size (needs %d)", h.l1Size, needed)
	case l1Bytes > qcow2MaxL1Bytes:
		return refuse("qcow2 L1 table of %d bytes is larger than qemu allows", l1Bytes)
	case h.l1Size > 0 && h.l1Offset%clusterSize != 0:
		return refuse("qcow2 L1 table offset %#x is not cluster aligned", h.l1Offset)
	}
	if v.size < 0 {
		return errNeedSize
	}
	if h.l1Offset > uint64(v.size) || h.l1Offset+l1Bytes > uint64(v.size) {
		return refuse("qcow2 L1 table (%d bytes at %#x) is larger than the file could hold (%d bytes)",
			l1Bytes, h.l1Offset, v.size)
	}
	return nil
}
