package imageformat

import (
	"errors"
	"fmt"
	"slices"
	"strings"
)

// detector knows one format: match is a cheap magic test on the head (or
// tail); parse validates the headers and fills Info, returning a *refusal
// for an unsafe image.
type detector struct {
	format Format
	match  func(v *view) bool
	parse  func(v *view, info *Info) error
}

// detectors lists every format but raw, which is what no match means.
var detectors = []detector{
	{QCOW2, magicAt(0, "QFI\xfb"), parseQCOW2},
	{QED, magicAt(0, "QED\x00"), parseQED},
	{VHD, matchVHD, parseVHD},
	{VHDX, magicAt(0, "vhdxfile"), parseVHDX},
	{VMDK, matchVMDK, parseVMDK},
	{VDI, magicAt(0x40, "\x7f\x10\xda\xbe"), parseVDI},
	{ISO, matchISO, parseISO},
	{GPT, magicAt(512, "EFI PART"), parseGPT},
	{LUKS, magicAt(0, "LUKS\xba\xbe"), parseLUKS},
}

// matchISO: the first volume descriptor at 32 KiB is ISO 9660's "CD001" or,
// for a UDF-only disc, the "BEA01" of the volume recognition sequence.
func matchISO(v *view) bool {
	return magicAt(0x8001, "CD001")(v) || magicAt(0x8001, "BEA01")(v)
}

func magicAt(off int64, magic string) func(v *view) bool {
	return func(v *view) bool {
		b, err := v.at(off, len(magic))
		return err == nil && string(b) == magic
	}
}

// decide runs the detectors over a view whose size is known.
func decide(v *view, l Limits) Info {
	info := Info{Format: Raw, FileSize: uint64(v.size), VirtualSize: uint64(v.size), Safe: true}
	if v.size == 0 {
		return unsafe(info, "image is empty")
	}
	var matched []detector
	for _, d := range detectors {
		if d.match(v) {
			matched = append(matched, d)
		}
	}
	matched = isoWinsOverGPT(matched)
	switch len(matched) {
	case 0:
	case 1:
		d := matched[0]
		info.Format = d.format
		info.VirtualSize = 0
		if err := d.parse(v, &info); err != nil {
			return unsafe(info, explain(d.format, err))
		}
	default:
		return unsafe(info, "image matches more than one format: "+names(matched))
	}
	if info.VirtualSize == 0 {
		// Accepted on upload, every node would refuse it (a disk of 0
		// bytes): refused here, so an active image is a bootable one.
		return unsafe(info, fmt.Sprintf("%s has a virtual size of 0 bytes", info.Format))
	}
	if info.VirtualSize > l.maxVirtualSize() {
		return unsafe(info, fmt.Sprintf("%s virtual size %d exceeds the limit of %d bytes",
			info.Format, info.VirtualSize, l.maxVirtualSize()))
	}
	return info
}

// isoWinsOverGPT: a hybrid iso carries a partition table in its system area
// so it also boots from a USB stick; it is an iso.
func isoWinsOverGPT(m []detector) []detector {
	if len(m) == 2 && m[0].format == ISO && m[1].format == GPT {
		return m[:1]
	}
	return m
}

func unsafe(info Info, reason string) Info {
	info.Safe = false
	info.Reason = reason
	return info
}

func explain(f Format, err error) string {
	var r *refusal
	var need *needError
	switch {
	case errors.As(err, &r):
		return r.reason
	case errors.Is(err, errShort):
		return fmt.Sprintf("%s image is truncated: its headers point past the end of the file", f)
	case errors.As(err, &need):
		return fmt.Sprintf("%s %v (out of order or over the inspection budget)", f, need)
	}
	return fmt.Sprintf("%s: %v", f, err)
}

func names(ds []detector) string {
	var s []string
	for _, d := range ds {
		s = append(s, string(d.format))
	}
	slices.Sort(s)
	return strings.Join(s, ", ")
}
