package provisioner_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/cowdisk/cowdisk/internal/agent"
	"github.com/cowdisk/cowdisk/internal/provisioner"
	"github.com/cowdisk/cowdisk/internal/provisioner/provtest"
)

// Issue 11: the node agent against an image service that lies, and callers
// that try their luck. Each case answers a 4xx naming the cause and leaves
// the pools and directories as they were.

// syncBuffer collects the agent's log lines from concurrent handlers.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// nodeAgent serves b over HTTP on loopback and returns its URL and its log.
func nodeAgent(t testing.TB, b provisioner.Backend) (string, *syncBuffer) {
	logs := &syncBuffer{}
	srv := httptest.NewServer(stopAtEnd(t, agent.New(b, slog.New(slog.NewTextHandler(logs, nil)))))
	t.Cleanup(srv.Close)
	return srv.URL, logs
}

// call sends a JSON body (raw text, so it may be malformed) and returns
// the status and the body.
func call(t testing.TB, ctx context.Context, method, url, body string) (int, string) {
	t.Helper()
	req, err := http.NewRequestWithContext(ctx, method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func createBody(instance, image string, size string) string {
	if size == "" {
		return fmt.Sprintf(`{"instance_id":%q,"image_id":%q}`, instance, image)
	}
	return fmt.Sprintf(`{"instance_id":%q,"image_id":%q,"size_bytes":%s}`, instance, image, size)
}

const (
	askedID  = "a5ced000-0000-4000-8000-000000000001"
	askedID2 = "a5ced000-0000-4000-8000-000000000002"
)

// Finding 1: ids and hashes from the record never become paths. Files
// planted where the old names led stay untouched and unused.
func TestHostileLocalTraversal(t *testing.T) {
	root := t.TempDir()
	dir := filepath.Join(root, "node", "local")
	outside := filepath.Join(root, "node", "outside")
	if err := os.MkdirAll(outside, 0o750); err != nil {
		t.Fatal(err)
	}
	raw, _ := provtest.QemuImage(t, "raw", mib)
	planted := map[string][]byte{"secret@snap.raw": []byte("secret bytes"), "vm1.raw": []byte("vm1 bytes")}
	for name, b := range planted {
		if err := os.WriteFile(filepath.Join(outside, name), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	h := newHostileService(t)
	lb, err := provisioner.NewLocal(h.source(t), provisioner.LocalConfig{Dir: dir}, discardLog())
	if err != nil {
		t.Fatal(err)
	}
	url, _ := nodeAgent(t, lb)
	for _, tc := range []struct{ name, rec, want string }{
		{"traversal id", record("../../outside/secret", "raw", raw, nil), "not a canonical lower-case UUID"},
		{"traversal hash", record(askedID, "raw", raw, map[string]any{"os_hash_value": "../../outside/vm1"}), "os_hash_value"},
		{"traversal checksum", record(askedID, "raw", raw, map[string]any{"os_hash_algo": "", "os_hash_value": "", "checksum": "../../outside/vm1"}), "checksum"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h.set(askedID, tc.rec, raw)
			code, body := call(t, context.Background(), "POST", url+"/v1/disks", createBody("trav", askedID, ""))
			if code != http.StatusUnprocessableEntity || !strings.Contains(body, tc.want) {
				t.Fatalf("%d %s; want 422 mentioning %q", code, body, tc.want)
			}
			if left := provisioner.LocalLeftovers(dir, true); len(left) != 0 {
				t.Fatalf("left behind: %v", left)
			}
			for name, b := range planted {
				if got, _ := os.ReadFile(filepath.Join(outside, name)); !bytes.Equal(got, b) {
					t.Fatalf("planted %s changed", name)
				}
			}
		})
	}
}

// Findings 3, 5, 6, 8: the record must be about the id asked for, with its
// core fields under their exact names, bounded in size; nothing from it
// that carries credentials is repeated. --never-download holds.
func TestHostileRecords(t *testing.T) {
	e := newClusterEnv(t)
	svc := e.rbdService(t)
	raw, _ := provtest.QemuImage(t, "raw", 4*mib)
	qcow, _ := provtest.QemuImage(t, "qcow2", 4*mib)
	victim, qcowInRBD := svc.upload(t, "raw", raw), svc.upload(t, "qcow2", qcow)
	loc := func(id string) []string {
		return []string{"rbd://" + e.c.FSID() + "/" + e.imagesPool + "/" + id + "/snap"}
	}
	h := newHostileService(t)
	b := e.backend(t, h.source(t), func(c *provisioner.RBDConfig) { c.NeverDownload = true })
	url, logs := nodeAgent(t, b)
	for _, tc := range []struct {
		name, rec string
		code      int
		want      string
	}{
		{"another project's image", record(victim, "raw", raw, map[string]any{"locations": []map[string]any{{"url": loc(victim)[0], "metadata": map[string]any{}}}}), 422, "the service answered"},
		{"reaper-looking id", record("x.tmp-t1-1", "raw", raw, nil), 422, "not a canonical lower-case UUID"},
		{"case twin of disk_format", withMember(record(askedID, "qcow2", qcow, map[string]any{"locations": []map[string]any{{"url": loc(qcowInRBD)[0]}}}), `"diſk_format":"raw"`), 422, "differ only in case"},
		{"case-folded disk_format alone", strings.Replace(record(askedID, "qcow2", qcow, map[string]any{"locations": []map[string]any{{"url": loc(qcowInRBD)[0]}}}), `"disk_format"`, `"diſk_format"`, 1), 422, "disk_format"},
		{"duplicate disk_format", withMember(record(askedID, "qcow2", qcow, nil), `"disk_format":"raw"`), 422, `duplicate member`},
		{"no size", record(askedID, "raw", raw, map[string]any{"size": nil}), 422, "without a size"},
		{"huge size", record(askedID, "raw", raw, map[string]any{"size": int64(1) << 62}), 422, "--max-disk-size"},
		{"record too large", record(askedID, "raw", raw, map[string]any{"pad": strings.Repeat("x", 100<<10)}), 422, "larger than"},
		{"credentials in locations", record(askedID, "raw", raw, map[string]any{"locations": []map[string]any{
			{"url": "http://admin:s3cret@198.51.100.1/x"}, {"url": "rbd://admin:s3cret@" + e.c.FSID() + "/" + e.imagesPool + "/" + askedID + "/snap"},
			{"url": "rbd://" + e.c.FSID() + "/admin:s3cret@pool/x/snap"}}}), 422, "downloading is disabled"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h.set(askedID, tc.rec, raw)
			// One instance per case: a case that fails leaves its disk to
			// itself, not to the next case's "no disk" check.
			inst := "hostile" + strings.Map(keepAlnum, tc.name)
			code, body := call(t, context.Background(), "POST", url+"/v1/disks", createBody(inst, askedID, ""))
			if code != tc.code || !strings.Contains(body, tc.want) {
				t.Fatalf("%d %s; want %d mentioning %q", code, body, tc.code, tc.want)
			}
			if strings.Contains(body, "s3cret") || strings.Contains(logs.String(), "s3cret") {
				t.Fatalf("credentials repeated: body %s\nlog %s", body, logs)
			}
			if disks, err := b.List(context.Background(), inst); err != nil || len(disks) != 0 {
				t.Fatalf("disks %v %v", disks, err)
			}
		})
	}
}

// keepAlnum drops what an instance id may not hold.
func keepAlnum(r rune) rune {
	if r < 0x80 && (r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z') {
		return r
	}
	return -1
}

// Finding 9: sizes past --max-disk-size are refused before anything is made.
func TestHostileSizes(t *testing.T) {
	e := newClusterEnv(t)
	svc := e.rbdService(t)
	raw, _ := provtest.QemuImage(t, "raw", 4*mib)
	id := svc.upload(t, "raw", raw)
	b := e.backend(t, svc.source(), nil)
	url, _ := nodeAgent(t, b)
	for _, size := range []string{"9223372036854775808", "18446744073709551615", fmt.Sprint(uint64(provisioner.DefaultMaxDiskSize) + 1)} {
		code, body := call(t, context.Background(), "POST", url+"/v1/disks", createBody("huge", id, size))
		if code != http.StatusBadRequest || !strings.Contains(body, "max-disk-size") {
			t.Fatalf("size %s: %d %s; want 400 naming --max-disk-size", size, code, body)
		}
	}
	if disks, _ := b.List(context.Background(), "huge"); len(disks) != 0 {
		t.Fatalf("disks made: %v", disks)
	}
	if code, body := call(t, context.Background(), "POST", url+"/v1/disks", createBody("grow", id, "")); code != 201 {
		t.Fatalf("create: %d %s", code, body)
	}
	code, body := call(t, context.Background(), "POST", url+"/v1/disks/grow/disk/resize", `{"size_bytes":18446744073709551615}`)
	if code != http.StatusBadRequest || !strings.Contains(body, "max-disk-size") {
		t.Fatalf("resize: %d %s; want 400 naming --max-disk-size", code, body)
	}
	if d, err := b.Get(context.Background(), "grow", "disk"); err != nil || d.SizeBytes != 4*mib {
		t.Fatalf("disk after refused resize: %+v %v", d, err)
	}
}

func discardLog() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// Finding 5: a qcow2 whose record says raw (as a case-folded custom
// property once made the node believe) is never cloned as raw: the bytes
// of the snapshot are inspected first.
func TestHostileRawLabelOnQCOW2(t *testing.T) {
	e := newClusterEnv(t)
	svc := e.rbdService(t)
	qcow, _ := provtest.QemuImage(t, "qcow2", 4*mib)
	id := svc.upload(t, "qcow2", qcow)
	h := newHostileService(t)
	h.set(id, record(id, "raw", qcow, map[string]any{"locations": []map[string]any{
		{"url": "rbd://" + e.c.FSID() + "/" + e.imagesPool + "/" + id + "/snap"}}}), qcow)
	b := e.backend(t, h.source(t), nil)
	url, _ := nodeAgent(t, b)
	code, body := call(t, context.Background(), "POST", url+"/v1/disks", createBody("label", id, ""))
	if code != http.StatusUnprocessableEntity || !strings.Contains(body, `declared disk_format \"raw\" but the image is qcow2`) {
		t.Fatalf("%d %s; want 422: declared raw, is qcow2", code, body)
	}
	if disks, _ := b.List(context.Background(), ""); len(disks) != 0 {
		t.Fatalf("disks made: %v", disks)
	}
}
