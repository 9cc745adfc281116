package faults

// This file has no build tag: the fuzz target needs no cluster, so its
// seeds run in plain `go test` and scripts/fuzz-short.sh explores beyond
// them. It lives here because internal/agent (another part's package) has
// no fuzz target for its request decoder.

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/cowdisk/cowdisk/internal/agent"
	"github.com/cowdisk/cowdisk/internal/provisioner"
)

// echoBackend records the one request it gets and makes the disk it names.
// Every other Backend method is unreachable from POST /v1/disks (the nil
// embedded interface would panic, which the fuzzer would report).
type echoBackend struct {
	provisioner.Backend
	got   *provisioner.Request
	calls int
}

func (b *echoBackend) Create(_ context.Context, r provisioner.Request) (provisioner.Disk, error) {
	b.calls++
	b.got = &r
	return provisioner.Disk{InstanceID: r.InstanceID, Name: r.Name, ImageID: r.ImageID, SizeBytes: r.SizeBytes}, nil
}

// FuzzAgentCreateRequest feeds arbitrary bodies to the node agent's
// POST /v1/disks. Invariants: no panic; the answer is 201 or 400; a 400
// never reaches the backend and carries {"error":{"code":"invalid"}}; a 201
// comes only for a body a strict decoder (no unknown fields) accepts, hands
// the backend exactly its fields and echoes them. Data after the first JSON
// object is a 400, as in the image service (the seed with two objects).
func FuzzAgentCreateRequest(f *testing.F) {
	for _, seed := range []string{
		`{"instance_id":"i1","image_id":"img","size_bytes":1073741824}`,
		`{"instance_id":"i1","name":"disk.local","image_id":"img"}`,
		`{"instance_id":"i1","image_id":"img","pool":"vms"}`,
		`{"instance_id":"i1","image_id":"img","size_bytes":-1}`,
		`{"instance_id":"i1","image_id":"img","size_bytes":1e30}`,
		`{"instance_id":"i1","image_id":"img"}{"instance_id":"i2"}`,
		`{"instance_id":"a\u0000b","image_id":"../x"}`,
		`[]`, `null`, ``, `{`,
	} {
		f.Add([]byte(seed))
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	f.Fuzz(func(t *testing.T, body []byte) {
		b := &echoBackend{}
		srv := agent.New(b, log)
		w := httptest.NewRecorder()
		srv.ServeHTTP(w, httptest.NewRequest("POST", "/v1/disks", bytes.NewReader(body)))
		switch w.Code {
		case http.StatusBadRequest:
			var e agent.ErrorBody
			if b.calls != 0 || json.Unmarshal(w.Body.Bytes(), &e) != nil || e.Error.Code != "invalid" {
				t.Fatalf("400 for %q: backend calls %d, body %s", body, b.calls, w.Body)
			}
		case http.StatusCreated:
			var want agent.CreateRequest
			dec := json.NewDecoder(bytes.NewReader(body))
			dec.DisallowUnknownFields()
			if err := dec.Decode(&want); err != nil || b.calls != 1 {
				t.Fatalf("201 for %q that a strict decoder refuses (%v) or with %d backend calls", body, err, b.calls)
			}
			got := agent.CreateRequest{InstanceID: b.got.InstanceID, Name: b.got.Name, ImageID: b.got.ImageID, SizeBytes: b.got.SizeBytes}
			if got != want {
				t.Fatalf("body %q reached the backend as %+v, want %+v", body, got, want)
			}
			var d agent.Disk
			if err := json.Unmarshal(w.Body.Bytes(), &d); err != nil || d.InstanceID != want.InstanceID || d.ImageID != want.ImageID {
				t.Fatalf("201 body %s for %+v: %v", w.Body, want, err)
			}
		default:
			t.Fatalf("status %d for %q: %s", w.Code, body, w.Body)
		}
	})
}
