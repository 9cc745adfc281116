package imageformat

import (
	"bytes"
	"errors"
	"io"
	"testing"
)

// Fuzz targets, one per header parser. Inputs are pieces laid out at the
// offsets the format reads (head at 0, tail at the end, vhdx tables at their
// offsets) so the fuzzer mutates headers, not megabytes of padding. A plain
// `go test` runs the seeds: the builders' images and testdata/fuzz, which
// gen_seeds.go derives from images made by qemu-img.

const fuzzMaxSize = 4 << 20

func FuzzQCOW2(f *testing.F) { fuzzHeadTail(f, QCOW2, qcow2Image(), qcow2Image(patch{8, be64(0x200)})) }
func FuzzQED(f *testing.F)   { fuzzHeadTail(f, QED, build(512, patch{0, str("QED\x00")})) }
func FuzzVMDK(f *testing.F)  { fuzzHeadTail(f, VMDK, vmdkImage(vmdkSparseDesc), vmdkStreamImage()) }
func FuzzVHD(f *testing.F)   { fuzzHeadTail(f, VHD, vhdImage(), vhdImage()[:512]) }
func FuzzVDI(f *testing.F)   { fuzzHeadTail(f, VDI, vdiImage()) }
func FuzzISO(f *testing.F)   { fuzzHeadTail(f, ISO, isoImage()) }
func FuzzGPT(f *testing.F)   { fuzzHeadTail(f, GPT, gptImage()) }
func FuzzLUKS(f *testing.F)  { fuzzHeadTail(f, LUKS, luksImage()) }

// FuzzVHDX mutates the region table, the metadata table and the metadata
// items of vhdxImage in place.
func FuzzVHDX(f *testing.F) {
	img := vhdxImage()
	f.Add(img[vhdxRegionTable:vhdxRegionTable+64], img[vhdxMeta:vhdxMeta+96], img[vhdxItems:vhdxItems+16])
	f.Fuzz(func(t *testing.T, regions, meta, items []byte) {
		img := build(vhdxFileSize, patch{0, str("vhdxfile")}, patch{vhdxRegionTable, cut(regions, vhdxRegionLen)},
			patch{vhdxMeta, cut(meta, vhdxMetaTableLen)}, patch{vhdxItems, cut(items, 64)})
		checkParser(t, VHDX, img)
	})
}

// FuzzInspect runs the whole detection over arbitrary bytes, streamed in
// odd-sized writes and through random access.
func FuzzInspect(f *testing.F) {
	seeds := [][]byte{nil, qcow2Image()[:512], vmdkImage(vmdkSparseDesc)[:2048], vhdImage()[:1024], luksImage()[:1024],
		vdiImage()[:512], gptImage()[:1024], str("QED\x00"), randomBytes(999)}
	for _, s := range seeds {
		f.Add(s, uint16(4096))
	}
	f.Fuzz(func(t *testing.T, img []byte, chunk uint16) {
		ins := NewInspector(Limits{})
		for p := img; len(p) > 0; {
			n := min(len(p), int(chunk)+1)
			ins.Write(p[:n])
			p = p[n:]
		}
		streamed, _ := ins.Result()
		random, _ := InspectReaderAt(bytes.NewReader(img), int64(len(img)), Limits{})
		if streamed.Format != random.Format {
			t.Fatalf("stream says %s, random access says %s", streamed.Format, random.Format)
		}
		if ins.v.captured > maxCapture || len(ins.v.tail) > tailSize {
			t.Fatalf("captured %d bytes, tail %d", ins.v.captured, len(ins.v.tail))
		}
	})
}

// fuzzHeadTail seeds a target with images split into head and tail and
// fuzzes (head, tail, size): head at 0, tail ending at size.
func fuzzHeadTail(f *testing.F, format Format, seeds ...[]byte) {
	for _, s := range seeds {
		tail := s[len(s)-min(len(s), tailSize):]
		if allZero(tail) {
			tail = nil
		}
		f.Add(bytes.TrimRight(s[:min(len(s), 16<<10)], "\x00"), tail, uint32(len(s)))
	}
	f.Fuzz(func(t *testing.T, head, tail []byte, size uint32) {
		head, tail = cut(head, fuzzMaxSize/2), cut(tail, fuzzMaxSize/2)
		n := max(int64(size%fuzzMaxSize), int64(len(head)+len(tail)))
		checkParser(t, format, build(n, patch{0, head}, patch{-int64(len(tail)), tail}))
	})
}

// checkParser runs format's parser directly (whatever the magic says) and
// the full Inspector: no panic, only the parser's own error kinds, bounded
// capture, and a safe result always has a format and fits the limit.
func checkParser(t *testing.T, format Format, img []byte) {
	t.Helper()
	v := view{size: int64(len(img)), ra: bytes.NewReader(img)}
	err := parserOf(format)(&v, &Info{})
	var r *refusal
	var need *needError
	if err != nil && !errors.As(err, &r) && !errors.As(err, &need) && !errors.Is(err, errShort) {
		t.Fatalf("%s parser returned an unexpected error: %v", format, err)
	}
	if v.captured > maxCapture {
		t.Fatalf("captured %d bytes", v.captured)
	}
	info, err := Inspect(io.MultiReader(bytes.NewReader(img)), Limits{})
	if (err == nil) != info.Safe || (info.Safe && info.VirtualSize > DefaultMaxVirtualSize) {
		t.Fatalf("inconsistent result %+v, %v", info, err)
	}
}

func parserOf(format Format) func(*view, *Info) error {
	for _, d := range detectors {
		if d.format == format {
			return d.parse
		}
	}
	panic("no parser for " + format)
}

func cut(b []byte, n int) []byte { return b[:min(len(b), n)] }

func allZero(b []byte) bool { return len(bytes.Trim(b, "\x00")) == 0 }
