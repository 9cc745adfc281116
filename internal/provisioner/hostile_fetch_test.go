package provisioner_test

import (
	"context"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cowdisk/cowdisk/internal/provisioner"
	"github.com/cowdisk/cowdisk/internal/provisioner/provtest"
)

// bomb is a compressed qcow2 of a 128 MiB disk whose every byte is data:
// under half a MiB stored, 128 MiB allocated once converted.
func bomb(t *testing.T) []byte {
	dir := t.TempDir()
	src, out := filepath.Join(dir, "bomb.raw"), filepath.Join(dir, "bomb.qcow2")
	if err := os.WriteFile(src, []byte(strings.Repeat("\x5a", 128*mib)), 0o600); err != nil {
		t.Fatal(err)
	}
	provtest.Run(t, "qemu-img", "convert", "-q", "-c", "-f", "raw", "-O", "qcow2", src, out)
	return provtest.Read(t, out)
}

// Finding 4: the expansion bound stops a decompression bomb while it is
// written, before it allocates much, and leaves nothing in the pool.
func TestHostileExpansionBomb(t *testing.T) {
	e := newClusterEnv(t)
	data := bomb(t)
	h := newHostileService(t)
	h.set(askedID, record(askedID, "qcow2", data, nil), data)
	b := e.backend(t, h.source(t), nil)
	url, _ := nodeAgent(t, b)
	code, body := call(t, context.Background(), "POST", url+"/v1/disks", createBody("bomb", askedID, ""))
	if code != http.StatusUnprocessableEntity || !strings.Contains(body, "max-expansion") {
		t.Fatalf("%d %s; want 422 naming --max-expansion", code, body)
	}
	limit := uint64(provisioner.DefaultMaxExpansion * len(data))
	if w := uint64(b.Stats().BytesWritten.Load()); w > limit {
		t.Fatalf("%d bytes written before the refusal, over the %d allowed", w, limit)
	}
	t.Logf("bomb: %d bytes stored, 128 MiB virtual; refused after %d bytes written (limit %d)", len(data), b.Stats().BytesWritten.Load(), limit)
}

// The local backend bounds the bomb as well, and leaves no file behind.
func TestHostileExpansionBombLocal(t *testing.T) {
	data := bomb(t)
	h := newHostileService(t)
	h.set(askedID, record(askedID, "qcow2", data, nil), data)
	refusedLocal(t, h.source(t), "max-expansion")
}

// Finding 11: a qcow2 whose data clusters are cut off passes inspection but
// not conversion; that is the image refused (422), not a node fault.
func TestHostileTruncatedQCOW2(t *testing.T) {
	e := newClusterEnv(t)
	qcow, _ := provtest.QemuImage(t, "qcow2", 4*mib)
	cut := qcow[:0x60000]
	h := newHostileService(t)
	h.set(askedID, record(askedID, "qcow2", cut, nil), cut)
	url, _ := nodeAgent(t, e.backend(t, h.source(t), nil))
	code, body := call(t, context.Background(), "POST", url+"/v1/disks", createBody("cut", askedID, ""))
	if code != http.StatusUnprocessableEntity || !strings.Contains(body, "corrupt or truncated") {
		t.Fatalf("%d %s; want 422 saying the data is corrupt or truncated", code, body)
	}
}

// Finding 7: a download that stalls is ended by the stall timeout (its
// slot freed for an unrelated image), and a fetch whose only caller hung up
// is canceled: the image service sees its client go.
func TestHostileStalledDownloads(t *testing.T) {
	e := newClusterEnv(t)
	raw, _ := provtest.QemuImage(t, "raw", 2*mib)
	h := newHostileService(t)
	h.set(askedID, record(askedID, "raw", raw, nil), raw)
	h.set(askedID2, record(askedID2, "raw", raw, nil), raw)
	h.stallOn(askedID)

	t.Run("stall timeout", func(t *testing.T) {
		b := e.backend(t, h.source(t), func(c *provisioner.RBDConfig) {
			c.MaxFetches = 1
			c.Bounds.StallTimeout = time.Second
		})
		url, _ := nodeAgent(t, b)
		code, body := call(t, context.Background(), "POST", url+"/v1/disks", createBody("stall", askedID, ""))
		if code != http.StatusUnprocessableEntity || !strings.Contains(body, "download-stall-timeout") {
			t.Fatalf("%d %s; want 422 naming --download-stall-timeout", code, body)
		}
		if id := <-h.gone; id != askedID {
			t.Fatalf("gone: %s", id)
		}
		<-h.started
		// The only fetch slot is free again: an unrelated image goes through.
		if code, body := call(t, context.Background(), "POST", url+"/v1/disks", createBody("other", askedID2, "")); code != http.StatusCreated {
			t.Fatalf("unrelated image: %d %s", code, body)
		}
	})

	t.Run("deadline", func(t *testing.T) {
		b := e.backend(t, h.source(t), func(c *provisioner.RBDConfig) { c.Bounds.FetchDeadline = time.Second })
		url, _ := nodeAgent(t, b)
		code, body := call(t, context.Background(), "POST", url+"/v1/disks", createBody("deadline", askedID, ""))
		if code != http.StatusUnprocessableEntity || !strings.Contains(body, "download-deadline") {
			t.Fatalf("%d %s; want 422 naming --download-deadline", code, body)
		}
		<-h.started
		<-h.gone
	})

	t.Run("record never finished", func(t *testing.T) {
		h.mu.Lock()
		h.slowRecord[askedID2] = true
		h.mu.Unlock()
		defer func() { h.mu.Lock(); delete(h.slowRecord, askedID2); h.mu.Unlock() }()
		b := e.backend(t, h.source(t), func(c *provisioner.RBDConfig) { c.Bounds.StallTimeout = time.Second })
		url, _ := nodeAgent(t, b)
		code, body := call(t, context.Background(), "POST", url+"/v1/disks", createBody("slowrec", askedID2, ""))
		if code != http.StatusUnprocessableEntity || !strings.Contains(body, "record not received") {
			t.Fatalf("%d %s; want 422: record not received", code, body)
		}
		<-h.gone
	})

	t.Run("caller hangs up", func(t *testing.T) {
		b := e.backend(t, h.source(t), nil) // stall timeout: the default minute
		url, _ := nodeAgent(t, b)
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() {
			defer close(done)
			req, _ := http.NewRequestWithContext(ctx, "POST", url+"/v1/disks", strings.NewReader(createBody("hangup", askedID, "")))
			if resp, err := http.DefaultClient.Do(req); err == nil {
				resp.Body.Close()
			}
		}()
		if id := <-h.started; id != askedID {
			t.Fatalf("started: %s", id)
		}
		cancel()
		<-done
		// Blocks (until the test's deadline) if the fetch went on alone.
		if id := <-h.gone; id != askedID {
			t.Fatalf("gone: %s", id)
		}
	})
}
