package imageformat

import (
	"encoding/binary"
	"slices"
)

// parseQED refuses qed always: it can name a backing file, qemu deprecated
// it, and nothing cowdisk serves needs it.
func parseQED(*view, *Info) error {
	return refuse("qed images are not accepted")
}

// parseISO: an iso is converted byte for byte, so its virtual size is the
// file size.
func parseISO(v *view, info *Info) error {
	if v.size < 0 {
		return errNeedSize
	}
	info.VirtualSize = uint64(v.size)
	return nil
}

// parseGPT checks the protective MBR in front of a GUID partition table: its
// signature, one 0xEE partition, and sane boot flags. A gpt disk is raw.
func parseGPT(v *view, info *Info) error {
	mbr, err := v.at(0, 512)
	if err != nil {
		return err
	}
	if mbr[510] != 0x55 || mbr[511] != 0xaa {
		return refuse("gpt has a bad protective MBR: no boot signature")
	}
	var types []byte
	for i := range 4 {
		e := mbr[446+16*i : 462+16*i]
		if e[0] != 0 && e[0] != 0x80 {
			return refuse("gpt has a bad protective MBR: boot flag %#x", e[0])
		}
		types = append(types, e[4])
	}
	if !slices.Contains(types, 0xee) {
		return refuse("gpt has a bad protective MBR: no 0xEE partition")
	}
	return parseISO(v, info)
}

// parseLUKS accepts LUKS version 1 only (as oslo.utils does). Its virtual
// size is what follows the key material.
func parseLUKS(v *view, info *Info) error {
	b, err := v.at(0, 112)
	if err != nil {
		return err
	}
	be := binary.BigEndian
	if version := be.Uint16(b[6:]); version != 1 {
		return refuse("luks version %d is not 1", version)
	}
	if v.size < 0 {
		return errNeedSize
	}
	payload := int64(be.Uint32(b[104:])) * 512
	if payload > v.size {
		return errShort
	}
	info.VirtualSize = uint64(v.size - payload)
	return nil
}
