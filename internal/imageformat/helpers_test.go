package imageformat

import (
	"bytes"
	"io"
	"os"
	"testing"
)

// inspectBoth inspects a file through the stream Inspector (in odd-sized
// writes, as a network would deliver it) and through random access, and
// fails unless both agree.
func inspectBoth(t *testing.T, path string, l Limits) (Info, error) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	ins := NewInspector(l)
	if _, err := io.CopyBuffer(ins, io.LimitReader(f, 1<<40), make([]byte, 7919)); err != nil {
		t.Fatal(err)
	}
	streamed, streamErr := ins.Result()
	random, randomErr := InspectFile(path, l)
	if streamed != random || (streamErr == nil) != (randomErr == nil) {
		t.Fatalf("stream and random access disagree:\n stream %+v (%v)\n random %+v (%v)", streamed, streamErr, random, randomErr)
	}
	return random, randomErr
}

// inspectBytes inspects an in-memory image both ways.
func inspectBytes(t *testing.T, b []byte) (Info, error) {
	t.Helper()
	path := t.TempDir() + "/img"
	if err := writeFile(path, b); err != nil {
		t.Fatal(err)
	}
	info, err := inspectBoth(t, path, Limits{})
	streamInfo, _ := Inspect(bytes.NewBufferString(string(b)), Limits{})
	if streamInfo != info {
		t.Fatalf("Inspect of a plain reader differs: %+v vs %+v", streamInfo, info)
	}
	return info, err
}

func writeFile(path string, b []byte) error { return os.WriteFile(path, b, 0o600) }
