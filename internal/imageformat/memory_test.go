package imageformat

import (
	"runtime"
	"testing"
)

// TestInspectorMemoryBounded streams 256 MiB through an Inspector and checks
// that it allocated well under 1 MiB: it keeps windows, never the stream.
func TestInspectorMemoryBounded(t *testing.T) {
	for _, head := range [][]byte{vhdxImage(), qcow2Image(), vmdkStreamImage(), randomBytes(64 << 10)} {
		chunk := make([]byte, 1<<20)
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		ins := NewInspector(Limits{})
		ins.Write(head)
		for range 256 {
			ins.Write(chunk)
		}
		info, _ := ins.Result()
		runtime.ReadMemStats(&after)
		alloc := after.TotalAlloc - before.TotalAlloc
		t.Logf("%s: %d bytes", info.Format, alloc)
		if alloc > 900<<10 {
			t.Fatalf("%s: inspecting 256 MiB allocated %d bytes", info.Format, alloc)
		}
	}
}
