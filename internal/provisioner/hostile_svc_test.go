package provisioner_test

import (
	"crypto/sha512"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/cowdisk/cowdisk/internal/imageclient"
	"github.com/cowdisk/cowdisk/internal/provisioner"
)

// hostileService is an image service that lies: for each id it answers
// whatever record (raw JSON text, so it can be malformed) and data a test
// sets, and can stall a download or report that its client went away.
type hostileService struct {
	t   testing.TB
	srv *httptest.Server
	mu  sync.Mutex
	rec map[string]string
	dat map[string][]byte
	// stall, when set for an id, sends the first stallAfter bytes and then
	// waits for the request to end (the node giving up).
	stall map[string]bool
	// slowRecord, when set for an id, sends half the record and waits for
	// the request to end.
	slowRecord map[string]bool
	stallAfter int
	// started receives the id of every stalling download once its first
	// bytes are out; gone, once its client went away.
	started, gone chan string
}

func newHostileService(t testing.TB) *hostileService {
	h := &hostileService{t: t, rec: map[string]string{}, dat: map[string][]byte{}, stall: map[string]bool{}, slowRecord: map[string]bool{},
		stallAfter: 4096, started: make(chan string, 16), gone: make(chan string, 16)}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /v2/images/{id}", h.record)
	mux.HandleFunc("GET /v2/images/{id}/file", h.file)
	h.srv = httptest.NewServer(mux)
	t.Cleanup(h.srv.Close)
	return h
}

// stallOn makes downloads of id stall after their first bytes.
func (h *hostileService) stallOn(id string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.stall[id] = true
}

// set serves rec as the record asked for under id, and data as its file.
func (h *hostileService) set(id, rec string, data []byte) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.rec[id], h.dat[id] = rec, data
}

func (h *hostileService) record(w http.ResponseWriter, r *http.Request) {
	h.mu.Lock()
	rec, ok := h.rec[r.PathValue("id")]
	slow := h.slowRecord[r.PathValue("id")]
	h.mu.Unlock()
	if !ok {
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	if !slow {
		_, _ = w.Write([]byte(rec))
		return
	}
	_, _ = w.Write([]byte(rec[:len(rec)/2]))
	w.(http.Flusher).Flush()
	<-r.Context().Done()
	h.gone <- r.PathValue("id")
}

func (h *hostileService) file(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	h.mu.Lock()
	data, stall := h.dat[id], h.stall[id]
	h.mu.Unlock()
	w.Header().Set("Content-Type", "application/octet-stream")
	if !stall {
		_, _ = w.Write(data)
		return
	}
	_, _ = w.Write(data[:min(h.stallAfter, len(data))])
	w.(http.Flusher).Flush()
	h.started <- id
	<-r.Context().Done() // the node hung up: a stalled download does not hold on
	h.gone <- id
}

func (h *hostileService) source(t testing.TB) provisioner.ImageSource {
	c, err := imageclient.New(h.srv.URL, "", imageclient.Options{HTTPClient: h.srv.Client(), MaxRecord: 64 << 10})
	if err != nil {
		t.Fatal(err)
	}
	return provisioner.ClientSource{Client: c}
}

// record is an honest-looking record for data, as JSON text; fields in
// extra are added or replace those computed.
func record(id, format string, data []byte, extra map[string]any) string {
	sum := sha512.Sum512(data)
	m := map[string]any{"id": id, "status": "active", "disk_format": format, "container_format": "bare",
		"size": len(data), "os_hash_algo": "sha512", "os_hash_value": hex.EncodeToString(sum[:])}
	for k, v := range extra {
		m[k] = v
	}
	b, _ := json.Marshal(m)
	return string(b)
}

// withMember splices a raw member (a key encoding/json cannot produce next
// to its twin, e.g. a duplicate) into a JSON object text.
func withMember(rec, member string) string {
	return strings.TrimSuffix(rec, "}") + "," + member + "}"
}
