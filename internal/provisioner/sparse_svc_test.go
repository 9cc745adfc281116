package provisioner_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cowdisk/cowdisk/internal/chunklist/chunkstest"
	"github.com/cowdisk/cowdisk/internal/imageclient"
	"github.com/cowdisk/cowdisk/internal/provisioner"
)

const chunkSize = 4 * mib

// chunkService serves images by the verified sparse transfer spec
// (cowdisk-chunks v1): a record with the binding, the chunk list, and
// ranged reads. Its hooks make it lie in one way at a time.
type chunkService struct {
	srv *httptest.Server
	mu  sync.Mutex
	img map[string]*servedImage
	// ranges and wholes count ranged and whole-image reads.
	ranges, wholes atomic.Int64
	// rangeBytes counts the bytes asked for by range.
	rangeBytes atomic.Int64
}

type servedImage struct {
	record string
	list   imageclient.ChunkList
	// spans are the list's data spans, sent when the node asks for them.
	spans  [][2]int
	data   []byte // what /file serves
	noList bool   // the list endpoint answers 404 (another Glance)
	// stallList sends half the list and waits for the node to hang up.
	stallList bool
	// answerRange, when set, answers ranged reads instead of ServeContent.
	answerRange func(w http.ResponseWriter, r *http.Request, data []byte)
}

func newChunkService(t testing.TB) *chunkService {
	s := &chunkService{img: map[string]*servedImage{}}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /v2/images/{id}", s.record)
	mux.HandleFunc("GET /v2/images/{id}/file", s.file)
	mux.HandleFunc("GET /v2/images/{id}/cowdisk-chunks", s.chunks)
	s.srv = httptest.NewServer(mux)
	t.Cleanup(s.srv.Close)
	return s
}

// chunkListOf is the honest list of data.
func chunkListOf(id string, data []byte) imageclient.ChunkList {
	l := imageclient.ChunkList{Version: 1, ImageID: id, Size: int64(len(data)), ChunkSize: chunkSize,
		Algorithm: "sha256", OSHashAlgo: "sha512", OSHashValue: sha512Hex(data)}
	for off := 0; off < len(data); off += chunkSize {
		d := sha256.Sum256(data[off:min(off+chunkSize, len(data))])
		l.Chunks = append(l.Chunks, hex.EncodeToString(d[:]))
	}
	return l
}

// bindingOf computes the record property for l, as the spec says.
func bindingOf(l imageclient.ChunkList) string {
	h := sha256.New()
	fmt.Fprintf(h, "cowdisk-chunks-v1\n%d\n%d\n%s\n", l.Size, l.ChunkSize, l.OSHashValue)
	for _, c := range l.Chunks {
		d, _ := hex.DecodeString(c)
		h.Write(d)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// serve publishes data as image id: an honest record binding an honest
// list. mod, when set, changes what is served afterwards.
func (s *chunkService) serve(id, format string, data []byte, mod func(*servedImage)) {
	l := chunkListOf(id, data)
	si := &servedImage{list: l, data: data, spans: chunkstest.Spans(data),
		record: record(id, format, data, map[string]any{imageclient.ChunksProperty: bindingOf(l)})}
	if mod != nil {
		mod(si)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.img[id] = si
}

func (s *chunkService) get(id string) *servedImage {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.img[id]
}

func (s *chunkService) record(w http.ResponseWriter, r *http.Request) {
	si := s.get(r.PathValue("id"))
	if si == nil {
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write([]byte(si.record))
}

func (s *chunkService) chunks(w http.ResponseWriter, r *http.Request) {
	si := s.get(r.PathValue("id"))
	if si == nil || si.noList {
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	l := si.list
	if r.URL.RawQuery == "spans=1" && si.spans != nil {
		l.SpanUnit, l.Spans = 64<<10, si.spans
	}
	b, _ := json.Marshal(l)
	if !si.stallList {
		_, _ = w.Write(b)
		return
	}
	_, _ = w.Write(b[:len(b)/2])
	w.(http.Flusher).Flush()
	<-r.Context().Done()
}

func (s *chunkService) file(w http.ResponseWriter, r *http.Request) {
	si := s.get(r.PathValue("id"))
	if si == nil {
		http.NotFound(w, r)
		return
	}
	if r.Header.Get("Range") == "" {
		s.wholes.Add(1)
		_, _ = w.Write(si.data)
		return
	}
	s.ranges.Add(1)
	var a, b int64
	if _, err := fmt.Sscanf(r.Header.Get("Range"), "bytes=%d-%d", &a, &b); err == nil {
		s.rangeBytes.Add(b - a + 1)
	}
	if si.answerRange != nil {
		si.answerRange(w, r, si.data)
		return
	}
	http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(si.data))
}

func (s *chunkService) source(t testing.TB) provisioner.ImageSource {
	c, err := imageclient.New(s.srv.URL, "", imageclient.Options{HTTPClient: s.srv.Client()})
	if err != nil {
		t.Fatal(err)
	}
	return provisioner.ClientSource{Client: c}
}

// answerPartial answers a range with 206, the right Content-Range, and
// body (whatever its length) under the declared length n.
func answerPartial(w http.ResponseWriter, r *http.Request, a, b int64, total int, body []byte, n int) {
	w.Header().Set("Content-Range", fmt.Sprintf("bytes %d-%d/%d", a, b, total))
	w.Header().Set("Content-Length", strconv.Itoa(n))
	w.WriteHeader(http.StatusPartialContent)
	_, _ = w.Write(body)
}

func parseRange(r *http.Request) (int64, int64) {
	var a, b int64
	_, _ = fmt.Sscanf(r.Header.Get("Range"), "bytes=%d-%d", &a, &b)
	return a, b
}
