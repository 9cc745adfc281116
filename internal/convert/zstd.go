package convert

import (
	"bytes"
	"debug/elf"
	"encoding/binary"
	"fmt"
	"io"

	"github.com/lima-vm/go-qcow2reader/image/qcow2"
)

// go-qcow2reader ships no zstd decompressor and go.mod carries no zstd
// package, but the standard library has a zstd decoder behind debug/elf,
// which decompresses ELF sections with ELFCOMPRESS_ZSTD. zstdReader wraps a
// compressed cluster in a minimal in-memory ELF file with one such section
// and reads it back decompressed. Swapping in another decoder later is a
// change to this file only.
func init() {
	qcow2.SetDecompressor(qcow2.CompressionTypeZstd, zstdReader)
}

const (
	elfHeaderLen  = 64
	elfSectionLen = 64
	elfChdrLen    = 24
	elfDataOff    = elfHeaderLen + 2*elfSectionLen
)

// zstdReader decompresses one zstd frame from r. A qcow2 compressed cluster
// is at most a cluster plus a few sectors (2 MiB + 256 KiB here), so reading
// it whole is bounded.
func zstdReader(r io.Reader) (io.ReadCloser, error) {
	compressed, err := readCluster(r, nil)
	if err != nil {
		return nil, err
	}
	f, err := elf.NewFile(bytes.NewReader(zstdELF(compressed)))
	if err != nil || len(f.Sections) != 2 {
		return nil, fmt.Errorf("wrap zstd cluster: %w", err)
	}
	return io.NopCloser(f.Sections[1].Open()), nil
}

// zstdELF builds: ELF64 header, a null section header, one SHF_COMPRESSED
// section header, then the section (compression header + zstd data). The
// declared uncompressed size bounds nothing here; qcow2reader reads at most
// one cluster from the stream.
func zstdELF(compressed []byte) []byte {
	le := binary.LittleEndian
	b := make([]byte, elfDataOff+elfChdrLen, elfDataOff+elfChdrLen+len(compressed))
	copy(b, "\x7fELF")
	b[elf.EI_CLASS], b[elf.EI_DATA], b[elf.EI_VERSION] = byte(elf.ELFCLASS64), byte(elf.ELFDATA2LSB), byte(elf.EV_CURRENT)
	le.PutUint16(b[16:], uint16(elf.ET_REL))
	le.PutUint16(b[18:], uint16(elf.EM_X86_64))
	le.PutUint32(b[20:], uint32(elf.EV_CURRENT))
	le.PutUint64(b[40:], elfHeaderLen) // e_shoff
	le.PutUint16(b[52:], elfHeaderLen)
	le.PutUint16(b[58:], elfSectionLen)
	le.PutUint16(b[60:], 2) // e_shnum; e_shstrndx 0: no section names
	sh := b[elfHeaderLen+elfSectionLen:]
	le.PutUint32(sh[4:], uint32(elf.SHT_PROGBITS))
	le.PutUint64(sh[8:], uint64(elf.SHF_COMPRESSED))
	le.PutUint64(sh[24:], elfDataOff)                         // sh_offset
	le.PutUint64(sh[32:], uint64(elfChdrLen+len(compressed))) // sh_size
	chdr := b[elfDataOff:]
	le.PutUint32(chdr[0:], uint32(elf.COMPRESS_ZSTD))
	le.PutUint64(chdr[8:], 1<<62) // ch_size: "until the frame ends"
	le.PutUint64(chdr[16:], 1)
	return append(b, compressed...)
}
