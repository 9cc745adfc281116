package provisioner_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/hex"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cowdisk/cowdisk/internal/provisioner"
	"github.com/cowdisk/cowdisk/internal/provisioner/provtest"
	"github.com/cowdisk/cowdisk/internal/testcluster"
)

func sha512Hex(b []byte) string {
	s := sha512.Sum512(b)
	return hex.EncodeToString(s[:])
}

// sparseData is a raw image of size bytes whose chunks 0, 1, 5, 6, ... (two
// of every five, 40%) hold random bytes and the rest are zeros.
func sparseData(size int) []byte {
	var buf bytes.Buffer
	_ = writeSparseData(&buf, size)
	return buf.Bytes()
}

// writeSparseData writes sparseData(size) to w a chunk at a time.
func writeSparseData(w io.Writer, size int) error {
	r := rand.New(rand.NewPCG(1, 2))
	chunk := make([]byte, chunkSize)
	for off := 0; off < size; off += chunkSize {
		c := chunk[:min(chunkSize, size-off)]
		clear(c)
		if (off/chunkSize)%5 < 2 {
			for i := 0; i < len(c); i += 8 {
				v := r.Uint64()
				for k := 0; k < 8 && i+k < len(c); k++ {
					c[i+k] = byte(v >> (8 * k))
				}
			}
		}
		if _, err := w.Write(c); err != nil {
			return err
		}
	}
	return nil
}

// dataBytes is what the honest sparse transfer of data fetches: its
// non-zero chunks.
func dataBytes(data []byte) int64 {
	var n int64
	for off := 0; off < len(data); off += chunkSize {
		c := data[off:min(off+chunkSize, len(data))]
		if !bytes.Equal(c, make([]byte, len(c))) {
			n += int64(len(c))
		}
	}
	return n
}

// A raw image comes by range, data chunks only, and the disk reads back as
// the image; nothing comes by the whole-stream download.
func TestSparseRaw(t *testing.T) {
	e := newClusterEnv(t)
	for _, c := range []struct {
		name string
		size int
	}{
		{"short last chunk of data", 11*chunkSize + 12345},
		{"short last chunk of zeros", 12*chunkSize + 5},
	} {
		t.Run(c.name, func(t *testing.T) {
			data := sparseData(c.size)
			s := newChunkService(t)
			s.serve(askedID, "raw", data, nil)
			b := e.backend(t, s.source(t), nil)
			d, err := b.Create(context.Background(), provisioner.Request{InstanceID: "sp-raw", ImageID: askedID})
			if err != nil {
				t.Fatal(err)
			}
			got := e.readDisk(t, d.Pool, d.Image)
			if len(got) < len(data) || !bytes.Equal(got[:len(data)], data) || !bytes.Equal(got[len(data):], make([]byte, len(got)-len(data))) {
				t.Fatalf("disk (%d bytes) differs from the image (%d bytes)", len(got), len(data))
			}
			if w, rb, want := s.wholes.Load(), s.rangeBytes.Load(), dataBytes(data); w != 0 || rb != want {
				t.Fatalf("%d whole downloads and %d bytes by range; want 0 and the %d bytes of data chunks", w, rb, want)
			}
		})
	}
}

// Data spans: of a chunk whose data sits inside it, only the data's 64 KiB
// units come by range (the zeros around them are the node's), and the disk
// is the image; a service without spans costs whole chunks, and is as good.
func TestSparseRawSpans(t *testing.T) {
	e := newClusterEnv(t)
	data := make([]byte, 6*chunkSize+100)
	copy(data[chunkSize+(1<<20):], bytes.Repeat([]byte("spans"), 40000)) // chunk 1, inside
	copy(data[3*chunkSize-10:], bytes.Repeat([]byte{7}, 20))             // end of 2, start of 3
	copy(data[6*chunkSize+50:], []byte("tail"))                          // the short last chunk
	for _, c := range []struct {
		name  string
		spans bool
		want  int64
	}{
		{"with spans", true, 4*65536 + 65536 + 65536 + 100}, // units 16-19 of chunk 1, one each side of 2|3, the tail
		{"without spans", false, 3*chunkSize + 100},
	} {
		t.Run(c.name, func(t *testing.T) {
			s := newChunkService(t)
			s.serve(askedID, "raw", data, func(si *servedImage) {
				if !c.spans {
					si.spans = nil
				}
			})
			b := e.backend(t, s.source(t), nil)
			d, err := b.Create(context.Background(), provisioner.Request{InstanceID: "sp-spans", ImageID: askedID})
			if err != nil {
				t.Fatal(err)
			}
			if got := e.readDisk(t, d.Pool, d.Image); !bytes.Equal(got[:len(data)], data) {
				t.Fatalf("disk differs from the image")
			}
			if rb := s.rangeBytes.Load(); rb != c.want {
				t.Fatalf("%d bytes by range, want %d", rb, c.want)
			}
		})
	}
}

// A qcow2 is converted straight from the service through verified chunks;
// the disk equals qemu-img's conversion of the same file.
func TestSparseQCOW2(t *testing.T) {
	e := newClusterEnv(t)
	for _, c := range []struct {
		name     string
		compress bool
	}{{"plain", false}, {"compressed", true}} {
		t.Run(c.name, func(t *testing.T) {
			img, want := qcow2Of(t, sparseData(9*chunkSize+4096), c.compress)
			s := newChunkService(t)
			s.serve(askedID, "qcow2", img, nil)
			b := e.backend(t, s.source(t), nil)
			d, err := b.Create(context.Background(), provisioner.Request{InstanceID: "sp-q-" + c.name, ImageID: askedID})
			if err != nil {
				t.Fatal(err)
			}
			got := e.readDisk(t, d.Pool, d.Image)
			if len(got) < len(want) || !bytes.Equal(got[:len(want)], want) {
				t.Fatalf("disk (%d bytes) differs from qemu-img convert -O raw (%d bytes)", len(got), len(want))
			}
			if w, r := s.wholes.Load(), s.ranges.Load(); w != 0 || r == 0 {
				t.Fatalf("%d whole downloads, %d ranged reads; want none and some", w, r)
			}
		})
	}
}

// qcow2Of converts raw to qcow2 with qemu-img (compressed if asked) and
// returns the file and qemu-img's raw rendering of it.
func qcow2Of(t *testing.T, raw []byte, compress bool) (img, back []byte) {
	dir := t.TempDir()
	src, out, bk := filepath.Join(dir, "src.raw"), filepath.Join(dir, "img.qcow2"), filepath.Join(dir, "back.raw")
	if err := os.WriteFile(src, raw, 0o600); err != nil {
		t.Fatal(err)
	}
	args := []string{"convert", "-q", "-f", "raw", "-O", "qcow2"}
	if compress {
		args = append(args, "-c")
	}
	provtest.Run(t, "qemu-img", append(args, src, out)...)
	provtest.Run(t, "qemu-img", "convert", "-q", "-f", "qcow2", "-O", "raw", out, bk)
	return provtest.Read(t, out), provtest.Read(t, bk)
}

// Without the record's property, or with a service that has no list (any
// other Glance), the whole-stream download is used, unchanged.
func TestSparseFallback(t *testing.T) {
	e := newClusterEnv(t)
	data := sparseData(3*chunkSize + 100)
	for _, c := range []struct {
		name string
		mod  func(*servedImage)
	}{
		{"no property", func(si *servedImage) { si.record = record(askedID, "raw", data, nil) }},
		{"no list endpoint", func(si *servedImage) { si.noList = true }},
	} {
		t.Run(c.name, func(t *testing.T) {
			s := newChunkService(t)
			s.serve(askedID, "raw", data, c.mod)
			b := e.backend(t, s.source(t), nil)
			d, err := b.Create(context.Background(), provisioner.Request{InstanceID: "sp-fb", ImageID: askedID})
			if err != nil {
				t.Fatal(err)
			}
			if got := e.readDisk(t, d.Pool, d.Image); !bytes.Equal(got[:len(data)], data) {
				t.Fatal("disk differs from the image")
			}
			if w, r := s.wholes.Load(), s.ranges.Load(); w != 1 || r != 0 {
				t.Fatalf("%d whole downloads, %d ranged reads; want 1 and none", w, r)
			}
		})
	}
}

func digestHex(b []byte) string {
	d := sha256.Sum256(b)
	return hex.EncodeToString(d[:])
}

// A service that lies about the list, a chunk or a range is refused (422,
// naming the image and what was wrong) and nothing is left in the pool.
func TestSparseHostile(t *testing.T) {
	e := newClusterEnv(t)
	data := sparseData(6*chunkSize + 777)
	backed := qemuBacked(t)
	qcow, _ := qcow2Of(t, sparseData(chunkSize), false)
	bigQcow, _ := qcow2Of(t, sparseData(16*chunkSize), false)
	huge := qemuCreate(t, "qcow2", "32T")
	withDataFile := qemuCreate(t, "qcow2", "4M", "-o", "data_file="+filepath.Join(t.TempDir(), "data.raw"))
	n := int64(chunkSize)
	partial := func(body func(data []byte, a, b int64) ([]byte, int)) func(http.ResponseWriter, *http.Request, []byte) {
		return func(w http.ResponseWriter, r *http.Request, data []byte) {
			a, b := parseRange(r)
			out, declared := body(data, a, b)
			answerPartial(w, r, a, b, len(data), out, declared)
		}
	}
	cases := []struct {
		name, format string
		img          []byte
		mod          func(*servedImage)
		want         string
	}{
		{"wrong chunk bytes", "raw", data, func(si *servedImage) {
			si.data = bytes.Clone(data)
			si.data[n+10] ^= 1
		}, "chunk 1 (bytes 4194304-8388607) does not match its SHA-256"},
		{"list not matching the binding", "raw", data, func(si *servedImage) {
			si.list.Chunks[5] = digestHex([]byte("other"))
		}, "the list hashes to"},
		{"data chunk marked zero", "raw", data, func(si *servedImage) {
			si.list.Chunks[1] = digestHex(make([]byte, chunkSize))
		}, "the list hashes to"},
		{"list of another image", "raw", data, func(si *servedImage) { si.list.ImageID = askedID2 }, "it is the list of image"},
		{"list of another size", "raw", data, func(si *servedImage) { si.list.Size++ }, "size 25166602, the record says 25166601"},
		{"list of another os_hash_value", "raw", data, func(si *servedImage) {
			si.list.OSHashValue = sha512Hex([]byte("other"))
		}, "os_hash_value differs"},
		{"chunk size not a power of two", "raw", data, func(si *servedImage) { si.list.ChunkSize = 3 << 20 }, "chunk_size 3145728"},
		{"one chunk too many", "raw", data, func(si *servedImage) {
			si.list.Chunks = append(si.list.Chunks, si.list.Chunks[0])
		}, "8 chunks"},
		{"list over its bound", "raw", data, func(si *servedImage) {
			si.list.Algorithm = strings.Repeat("x", 1<<20)
		}, "larger than"},
		{"range answered 200 with the whole body", "raw", data, func(si *servedImage) {
			si.answerRange = func(w http.ResponseWriter, _ *http.Request, data []byte) { _, _ = w.Write(data) }
		}, "answered HTTP 200, not 206"},
		{"range of the wrong length", "raw", data, func(si *servedImage) {
			si.answerRange = partial(func(d []byte, a, b int64) ([]byte, int) { return d[a:b], int(b - a) })
		}, "answered Content-Length"},
		{"range at another offset", "raw", data, func(si *servedImage) {
			si.answerRange = func(w http.ResponseWriter, r *http.Request, data []byte) {
				a, b := parseRange(r)
				answerPartial(w, r, a+1, b+1, len(data), data[a+1:b+2], int(b-a+1))
			}
		}, "answered Content-Range"},
		{"data span hiding data", "raw", data, func(si *servedImage) { si.spans[1] = [2]int{0, 32} },
			"chunk 1 (bytes 4194304-8388607) does not match its SHA-256"},
		{"data span past its chunk", "raw", data, func(si *servedImage) { si.spans[1] = [2]int{0, 65} },
			"data span [0 65] is not within its 64 units"},
		{"data spans for fewer chunks", "raw", data, func(si *servedImage) { si.spans = si.spans[1:] }, "data spans"},
		{"range cut short", "raw", data, func(si *servedImage) {
			si.answerRange = partial(func(d []byte, a, b int64) ([]byte, int) { return d[a : a+(b-a)/2], int(b - a + 1) })
		}, "cut short"},
		{"raw that is a qcow2", "raw", qcow, nil, "but the image is qcow2"},
		{"qcow2 with a backing file", "qcow2", backed, nil, "backing"},
		{"qcow2 of 32 TiB", "qcow2", huge, nil, "virtual size"},
		{"qcow2 with a data file", "qcow2", withDataFile, nil, "data file"},
		{"qcow2 decompression bomb", "qcow2", bomb(t), nil, "max-expansion"},
		{"qcow2 chunk with wrong bytes, read at the tail", "qcow2", qcow, func(si *servedImage) {
			si.data = bytes.Clone(qcow)
			si.data[len(qcow)-10] ^= 1
		}, "chunk 1 (bytes 4194304-4521983) does not match its SHA-256"},
		{"qcow2 chunk with wrong bytes, read converting", "qcow2", bigQcow, func(si *servedImage) {
			si.data = bytes.Clone(bigQcow)
			si.data[2*chunkSize+100] ^= 1
		}, "chunk 2 (bytes 8388608-12582911) does not match its SHA-256"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s := newChunkService(t)
			s.serve(askedID, c.format, c.img, c.mod)
			refused(t, e, s, c.want)
		})
	}
	stalls := []struct {
		name string
		mod  func(*servedImage)
	}{
		{"slow range", func(si *servedImage) {
			si.answerRange = func(w http.ResponseWriter, r *http.Request, data []byte) {
				a, b := parseRange(r)
				answerPartial(w, r, a, b, len(data), data[a:a+4096], int(b-a+1))
				w.(http.Flusher).Flush()
				<-r.Context().Done()
			}
		}},
		{"list never finished", func(si *servedImage) { si.stallList = true }},
	}
	for _, c := range stalls {
		t.Run(c.name, func(t *testing.T) {
			s := newChunkService(t)
			s.serve(askedID, "raw", data, c.mod)
			refused(t, e, s, "download-stall-timeout", func(c *provisioner.RBDConfig) { c.Bounds.StallTimeout = time.Second })
		})
	}
	// A service whose storage is down answers 503 before the range's
	// first byte: the image service failed (502, retry later), the image is
	// not refused, and nothing is left.
	t.Run("range answered 503", func(t *testing.T) {
		s := newChunkService(t)
		s.serve(askedID, "raw", data, func(si *servedImage) {
			si.answerRange = func(w http.ResponseWriter, _ *http.Request, _ []byte) {
				http.Error(w, "its data cannot be read now, retry later", http.StatusServiceUnavailable)
			}
		})
		failed(t, e, s, http.StatusBadGateway, "its data cannot be read now")
	})
}

// refused creates a disk of askedID from s through the agent and expects a
// 422 whose message has want, and a clean pool.
func refused(t *testing.T, e *clusterEnv, s *chunkService, want string, mod ...func(*provisioner.RBDConfig)) {
	t.Helper()
	failed(t, e, s, http.StatusUnprocessableEntity, want, mod...)
}

// failed is refused with another status.
func failed(t *testing.T, e *clusterEnv, s *chunkService, status int, want string, mod ...func(*provisioner.RBDConfig)) {
	t.Helper()
	tmp := t.TempDir()
	b := e.backend(t, s.source(t), func(c *provisioner.RBDConfig) {
		c.TempDir = tmp
		for _, m := range mod {
			m(c)
		}
	})
	url, _ := nodeAgent(t, b)
	code, body := call(t, context.Background(), "POST", url+"/v1/disks", createBody("hostile", askedID, ""))
	if code != status || !strings.Contains(body, want) || !strings.Contains(body, askedID) {
		t.Fatalf("%d %s; want %d naming the image and %q", code, body, status, want)
	}
	t.Logf("failed: %s", body)
	testcluster.AssertPoolClean(t, e.c, e.vmsPool)
	if left, err := os.ReadDir(tmp); err != nil || len(left) != 0 {
		t.Fatalf("temporary directory not empty: %v %v", left, err)
	}
}

// qemuCreate is an empty image of format and size made by qemu-img.
func qemuCreate(t *testing.T, format, size string, opts ...string) []byte {
	out := filepath.Join(t.TempDir(), "img")
	provtest.Run(t, "qemu-img", append(append([]string{"create", "-q", "-f", format}, opts...), out, size)...)
	return provtest.Read(t, out)
}

// qemuBacked is a qcow2 whose header names a backing file.
func qemuBacked(t *testing.T) []byte {
	dir := t.TempDir()
	base, out := filepath.Join(dir, "base.raw"), filepath.Join(dir, "over.qcow2")
	if err := os.WriteFile(base, make([]byte, mib), 0o600); err != nil {
		t.Fatal(err)
	}
	provtest.Run(t, "qemu-img", "create", "-q", "-f", "qcow2", "-b", base, "-F", "raw", out, "1M")
	return provtest.Read(t, out)
}
