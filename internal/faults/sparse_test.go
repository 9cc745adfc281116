//go:build faults

package faults

import (
	"bytes"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
)

// sparseGlance serves images by the verified sparse transfer (a record
// binding a chunk list, the list, ranged reads) and lies in one way per
// image, to the real agent process.
type sparseGlance struct {
	srv  *httptest.Server
	data []byte
	mu   sync.Mutex
	lie  map[string]string // image id -> how it lies ("" honest)
}

const sparseChunk = 4 << 20

func newSparseGlance(t *testing.T, data []byte) *sparseGlance {
	g := &sparseGlance{data: data, lie: map[string]string{}}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /v2/images/{id}", g.record)
	mux.HandleFunc("GET /v2/images/{id}/cowdisk-chunks", g.chunks)
	mux.HandleFunc("GET /v2/images/{id}/file", g.file)
	g.srv = httptest.NewServer(mux)
	t.Cleanup(g.srv.Close)
	return g
}

func (g *sparseGlance) how(id string) (string, bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	lie, ok := g.lie[id]
	return lie, ok
}

// digests are the honest chunk digests.
func (g *sparseGlance) digests() [][32]byte {
	var out [][32]byte
	for off := 0; off < len(g.data); off += sparseChunk {
		out = append(out, sha256.Sum256(g.data[off:min(off+sparseChunk, len(g.data))]))
	}
	return out
}

func (g *sparseGlance) osHash() string {
	s := sha512.Sum512(g.data)
	return hex.EncodeToString(s[:])
}

func (g *sparseGlance) record(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	if _, ok := g.how(id); !ok {
		http.NotFound(w, r)
		return
	}
	h := sha256.New()
	fmt.Fprintf(h, "cowdisk-chunks-v1\n%d\n%d\n%s\n", len(g.data), sparseChunk, g.osHash())
	for _, d := range g.digests() {
		h.Write(d[:])
	}
	rec := map[string]any{"id": id, "name": "sparse", "status": "active", "disk_format": "raw", "container_format": "bare",
		"size": len(g.data), "os_hash_algo": "sha512", "os_hash_value": g.osHash(), "visibility": "public",
		"cowdisk_chunks_sha256": hex.EncodeToString(h.Sum(nil))}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(rec)
}

func (g *sparseGlance) chunks(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	lie, _ := g.how(id)
	var list []string
	for _, d := range g.digests() {
		list = append(list, hex.EncodeToString(d[:]))
	}
	if lie == "data chunk marked zero" {
		z := sha256.Sum256(make([]byte, sparseChunk))
		list[0] = hex.EncodeToString(z[:])
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]any{"version": 1, "image_id": id, "size": len(g.data), "chunk_size": sparseChunk,
		"algorithm": "sha256", "os_hash_algo": "sha512", "os_hash_value": g.osHash(), "chunks": list})
}

func (g *sparseGlance) file(w http.ResponseWriter, r *http.Request) {
	lie, _ := g.how(r.PathValue("id"))
	data := g.data
	switch lie {
	case "wrong chunk bytes":
		data = bytes.Clone(g.data)
		data[10] ^= 0xff // chunk 0 holds data (the last chunk is zeros, never fetched)
	case "range answered 200":
		_, _ = w.Write(data)
		return
	case "range cut short":
		var a, b int
		_, _ = fmt.Sscanf(r.Header.Get("Range"), "bytes=%d-%d", &a, &b)
		w.Header().Set("Content-Range", fmt.Sprintf("bytes %d-%d/%d", a, b, len(data)))
		w.Header().Set("Content-Length", fmt.Sprint(b-a+1))
		w.WriteHeader(http.StatusPartialContent)
		_, _ = w.Write(data[a : a+(b-a)/2])
		return
	}
	http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(data))
}

// The agent process takes an honest sparse image (disk equals the image)
// and refuses each lie with a 422 naming the image, leaving the vms pool
// empty once the honest disk is gone.
func TestSparseHostileService(t *testing.T) {
	data := rawImage(5*sparseChunk+4096, 21)
	g := newSparseGlance(t, data)
	f := newFixture(t, "f-sparse", options{imageService: g.srv.URL})
	for _, lie := range []string{"wrong chunk bytes", "data chunk marked zero", "range answered 200", "range cut short"} {
		t.Run(lie, func(t *testing.T) {
			id := uuid.NewString()
			g.mu.Lock()
			g.lie[id] = lie
			g.mu.Unlock()
			r := f.createDisk(instanceID(), id)
			if r.code != http.StatusUnprocessableEntity || !strings.Contains(string(r.body), id) {
				t.Fatalf("%s: %s; want 422 naming the image", lie, r)
			}
		})
	}
	id, inst := uuid.NewString(), instanceID()
	g.mu.Lock()
	g.lie[id] = ""
	g.mu.Unlock()
	f.mustDisk(inst, id)
	assertContent(t, f.c, f.vmsPool, diskName(inst), data)
	f.deleteInstance(inst)
	f.prune()
	f.assertVMsEmpty()
}
