package imageformat

import (
	"bytes"
	"encoding/binary"
	"strconv"
	"strings"
)

// VMDK sparse extent header (VMware "Virtual Disk Format 1.1"), little-endian.
const (
	vmdkMagic          = "KDMV"
	vmdkHeaderLen      = 512
	vmdkMaxDescriptor  = 1 << 20
	vmdkGDAtEnd        = ^uint64(0)
	vmdkMarkerFooter   = 3
	vmdkMarkerEOS      = 0
	vmdkDescriptorText = "# Disk DescriptorFile"
)

// A text descriptor file (not embedded in a sparse extent) is a vmdk too: it
// is the CVE-2022-47951 shape, whose extents may name any file.
func matchVMDK(v *view) bool {
	return magicAt(0, vmdkMagic)(v) || magicAt(0, vmdkDescriptorText)(v)
}

type vmdkHeader struct {
	capacity, descOffset, descSize, gdOffset uint64
}

func readVMDKHeader(b []byte) vmdkHeader {
	le := binary.LittleEndian
	return vmdkHeader{
		capacity:   le.Uint64(b[12:]),
		descOffset: le.Uint64(b[28:]),
		descSize:   le.Uint64(b[36:]),
		gdOffset:   le.Uint64(b[56:]),
	}
}

// parseVMDK accepts only monolithicSparse and streamOptimized images whose
// one descriptor is embedded at 0x200 and whose extents are the file itself.
func parseVMDK(v *view, info *Info) error {
	if !magicAt(0, vmdkMagic)(v) {
		return refuse("vmdk descriptor is not at 0x200: a separate descriptor file is not accepted")
	}
	b, err := v.at(0, vmdkHeaderLen)
	if err != nil {
		return err
	}
	h := readVMDKHeader(b)
	info.VirtualSize = h.capacity * 512
	if h.capacity > 1<<53 {
		return refuse("vmdk capacity %d sectors is absurd", h.capacity)
	}
	desc, err := vmdkDescriptor(v, h)
	if err != nil {
		return err
	}
	createType, err := checkVMDKDescriptor(desc)
	if err != nil {
		return err
	}
	info.Subformat = createType
	if createType == "streamOptimized" && h.gdOffset == vmdkGDAtEnd {
		return checkVMDKFooter(v, h)
	}
	return nil
}

func vmdkDescriptor(v *view, h vmdkHeader) (string, error) {
	switch {
	case h.descOffset != 1:
		return "", refuse("vmdk descriptor is not at 0x200 (sector %d)", h.descOffset)
	case h.descSize == 0:
		return "", refuse("vmdk has no embedded descriptor")
	case h.descSize > vmdkMaxDescriptor/512:
		return "", refuse("vmdk descriptor of %d sectors is over 1 MiB", h.descSize)
	}
	b, err := v.at(512, int(h.descSize*512))
	if err != nil {
		return "", err
	}
	if i := bytes.IndexByte(b, 0); i >= 0 {
		b = b[:i]
	}
	return string(b), nil
}

// checkVMDKDescriptor allows only the lines qemu and VMware write for a
// single-file image and returns the createType.
func checkVMDKDescriptor(desc string) (string, error) {
	createType, extents := "", 0
	for _, line := range strings.Split(desc, "\n") {
		line = strings.TrimSpace(line)
		switch {
		case line == "" || line[0] == '#':
		case isVMDKExtent(line):
			if err := checkVMDKExtent(line); err != nil {
				return "", err
			}
			extents++
		default:
			key, val, err := checkVMDKSetting(line)
			if err != nil {
				return "", err
			}
			if key == "createType" {
				createType = val
			}
		}
	}
	switch {
	case createType != "monolithicSparse" && createType != "streamOptimized":
		return "", refuse("vmdk createType %q is not monolithicSparse or streamOptimized", createType)
	case extents == 0:
		return "", refuse("vmdk descriptor has no extents")
	}
	return createType, nil
}

// checkVMDKSetting checks a `key = "value"` line and returns key and value.
func checkVMDKSetting(line string) (string, string, error) {
	key, val, ok := strings.Cut(line, "=")
	if !ok {
		return "", "", refuse("vmdk descriptor has an unknown line %q", line)
	}
	key, val = strings.TrimSpace(key), strings.Trim(strings.TrimSpace(val), `"`)
	return key, val, checkVMDKKey(key, val)
}

func checkVMDKKey(key, val string) error {
	switch {
	case strings.HasPrefix(key, "ddb."), key == "version", key == "encoding", key == "CID", key == "createType":
		return nil
	case key == "parentCID" && strings.EqualFold(val, "ffffffff"):
		return nil
	case key == "parentCID", key == "parentFileNameHint":
		return refuse("vmdk has a parent")
	}
	return refuse("vmdk descriptor has an unknown line %q", key+"="+val)
}

func isVMDKExtent(line string) bool {
	access, _, _ := strings.Cut(line, " ")
	return access == "RW" || access == "RDONLY" || access == "NOACCESS"
}

// checkVMDKExtent accepts `RW|RDONLY|NOACCESS <sectors> SPARSE "<name>"`
// where the name has no '/': the extent of a single-file image is itself.
func checkVMDKExtent(line string) error {
	fields := strings.Fields(line)
	if len(fields) < 4 {
		return refuse("vmdk descriptor has an unknown line %q", line)
	}
	sectors, typ := fields[1], fields[2]
	name := strings.Join(fields[3:], " ")
	switch {
	case typ != "SPARSE":
		return refuse("vmdk extent type %q is not SPARSE", typ)
	case strings.Contains(name, "/"):
		return refuse("vmdk extent %s names a path with /", name)
	case len(name) < 2 || name[0] != '"' || name[len(name)-1] != '"':
		return refuse("vmdk descriptor has an unknown line %q", line)
	}
	if _, err := strconv.ParseUint(sectors, 10, 64); err != nil {
		return refuse("vmdk extent size %q is not a number", sectors)
	}
	return nil
}

// checkVMDKFooter validates the trailer of a streamOptimized image whose grain
// directory is "at end": footer marker, footer (a header copy), end-of-stream.
func checkVMDKFooter(v *view, h vmdkHeader) error {
	if v.size < 0 {
		return errNeedSize
	}
	b, err := v.at(v.size-1536, 1536)
	if err != nil {
		return refuse("vmdk streamOptimized footer is missing")
	}
	le := binary.LittleEndian
	footer := readVMDKHeader(b[512:])
	switch {
	case le.Uint32(b[12:]) != vmdkMarkerFooter || le.Uint32(b[1024+12:]) != vmdkMarkerEOS:
		return refuse("vmdk streamOptimized footer markers are bad")
	case string(b[512:516]) != vmdkMagic:
		return refuse("vmdk streamOptimized footer has no magic")
	case footer.gdOffset == vmdkGDAtEnd || footer.gdOffset*512 >= uint64(v.size):
		return refuse("vmdk streamOptimized footer grain directory offset %d is bad", footer.gdOffset)
	case footer.capacity != h.capacity:
		return refuse("vmdk streamOptimized footer capacity %d differs from the header's %d", footer.capacity, h.capacity)
	}
	return nil
}
