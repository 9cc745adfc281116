package imageformat

import "testing"

// BenchmarkInspectorWrite measures the cost the Inspector adds to a stream
// (an upload through io.TeeReader), in 64 KiB writes.
func BenchmarkInspectorWrite(b *testing.B) {
	chunk := make([]byte, 64<<10)
	copy(chunk, qcow2Image())
	b.SetBytes(int64(len(chunk)) * 1024)
	for b.Loop() {
		ins := NewInspector(Limits{})
		for range 1024 {
			ins.Write(chunk)
		}
		if _, err := ins.Result(); err != nil {
			b.Fatal(err)
		}
	}
}
