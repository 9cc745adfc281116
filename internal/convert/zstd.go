package convert

import (
	"bytes"
	"fmt"
	"io"

	"github.com/klauspost/compress/zstd"
	"github.com/lima-vm/go-qcow2reader/image/qcow2"
)

// go-qcow2reader ships no zstd decompressor; qemu's zstd-compressed qcow2
// clusters (compression_type=zstd) need one. klauspost/compress is already
// in the module graph through the Prometheus client.
func init() {
	qcow2.SetDecompressor(qcow2.CompressionTypeZstd, zstdReader)
}

// zstdDecoder is shared: DecodeAll is safe for concurrent use, and creating
// a decoder per cluster would dominate the cost of small clusters. Memory is
// capped at one cluster's worth; a frame claiming more is hostile.
var zstdDecoder, _ = zstd.NewReader(nil, zstd.WithDecoderConcurrency(0),
	zstd.WithDecoderMaxMemory(maxCompressedCluster), zstd.WithDecoderMaxWindow(maxCompressedCluster))

// zstdReader decompresses one zstd-compressed cluster from r. A compressed
// cluster is at most a cluster plus a few sectors, so reading it whole is
// bounded.
func zstdReader(r io.Reader) (io.ReadCloser, error) {
	compressed, err := readCluster(r, nil)
	if err != nil {
		return nil, err
	}
	out, err := zstdDecoder.DecodeAll(compressed, nil)
	if err != nil && len(out) == 0 {
		return nil, fmt.Errorf("zstd cluster: %w", err)
	}
	// A cluster's compressed bytes are followed by padding up to a sector,
	// which the decoder may report as trailing garbage after a full frame.
	return io.NopCloser(bytes.NewReader(out)), nil
}
