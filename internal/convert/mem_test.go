package convert

import "sync"

// memWriterAt is an in-memory io.WriterAt that, like a new RBD image, reads
// as zeros where nothing was written.
type memWriterAt struct {
	mu      sync.Mutex
	b       []byte
	written uint64
}

func (m *memWriterAt) WriteAt(p []byte, off int64) (int, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if end := int(off) + len(p); end > len(m.b) {
		m.b = append(m.b, make([]byte, end-len(m.b))...)
	}
	m.written += uint64(copy(m.b[off:], p))
	return len(p), nil
}

func (m *memWriterAt) bytes(size int) []byte {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append(m.b, make([]byte, size-len(m.b))...)
}
