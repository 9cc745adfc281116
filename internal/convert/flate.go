package convert

import (
	"bytes"
	"compress/flate"
	"errors"
	"fmt"
	"io"
	"sync"

	"github.com/lima-vm/go-qcow2reader/image/qcow2"
)

// go-qcow2reader opens a new decompressor for every compressed cluster and
// hands it a section reader, which deflate would wrap in a 4 KiB bufio and
// read with one small pread after another. Here each cluster is read with
// one ReadAt into a pooled buffer (one round trip, also over RBD) and the
// deflate reader, whose window and tables are costly to allocate, is reset
// rather than recreated.
func init() {
	qcow2.SetDecompressor(qcow2.CompressionTypeZlib, pooledFlateReader)
}

// maxCompressedCluster bounds what is read for one compressed cluster: the
// largest cluster (2 MiB) plus the sectors a compressed descriptor can add.
const maxCompressedCluster = 4 << 20

type flateCluster struct {
	buf []byte
	src bytes.Reader
	zr  io.ReadCloser
}

var flatePool = sync.Pool{New: func() any { return new(flateCluster) }}

func pooledFlateReader(r io.Reader) (io.ReadCloser, error) {
	c := flatePool.Get().(*flateCluster)
	var err error
	if c.buf, err = readCluster(r, c.buf); err != nil {
		flatePool.Put(c)
		return nil, err
	}
	c.src.Reset(c.buf)
	if c.zr == nil {
		c.zr = flate.NewReader(&c.src)
	} else if err := c.zr.(flate.Resetter).Reset(&c.src, nil); err != nil {
		flatePool.Put(c)
		return nil, err
	}
	return c, nil
}

func (c *flateCluster) Read(p []byte) (int, error) { return c.zr.Read(p) }

// Close returns the cluster reader to the pool; qcow2reader closes every
// reader it opens.
func (c *flateCluster) Close() error {
	flatePool.Put(c)
	return nil
}

// readCluster reads all of r (a section of the image, possibly reaching past
// its end for the last cluster) into buf, reusing its capacity.
func readCluster(r io.Reader, buf []byte) ([]byte, error) {
	n := maxCompressedCluster
	if s, ok := r.(interface{ Size() int64 }); ok && s.Size() < int64(n) {
		n = int(s.Size())
	}
	if cap(buf) < n {
		buf = make([]byte, n)
	}
	got, err := io.ReadFull(r, buf[:n])
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, io.EOF) {
		return buf, fmt.Errorf("read compressed cluster: %w", err)
	}
	return buf[:got], nil
}
