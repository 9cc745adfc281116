package convert

import (
	"compress/flate"
	"io"
	"sync"

	"github.com/lima-vm/go-qcow2reader/image/qcow2"
)

// go-qcow2reader opens a new deflate reader for every compressed cluster;
// each one allocates its window and tables, which makes garbage collection
// a large share of converting a compressed image. Pooled readers are reset
// onto the next cluster instead.
func init() {
	qcow2.SetDecompressor(qcow2.CompressionTypeZlib, pooledFlateReader)
}

var flatePool sync.Pool

type pooledFlate struct{ io.ReadCloser }

// Close returns the reader to the pool; qcow2reader closes every reader it opens.
func (p *pooledFlate) Close() error {
	flatePool.Put(p)
	return nil
}

func pooledFlateReader(r io.Reader) (io.ReadCloser, error) {
	if p, ok := flatePool.Get().(*pooledFlate); ok {
		if err := p.ReadCloser.(flate.Resetter).Reset(r, nil); err != nil {
			return nil, err
		}
		return p, nil
	}
	return &pooledFlate{flate.NewReader(r)}, nil
}
