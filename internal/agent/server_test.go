package agent

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"libvirt.org/go/libvirtxml"

	"github.com/cowdisk/cowdisk/internal/errs"
	"github.com/cowdisk/cowdisk/internal/provisioner"
)

// fakeBackend answers every call with disk or err and records what it got.
type fakeBackend struct {
	disk provisioner.Disk
	err  error
	got  []string
}

func (f *fakeBackend) Create(_ context.Context, r provisioner.Request) (provisioner.Disk, error) {
	f.got = append(f.got, fmt.Sprintf("create %s %s %s %d", r.InstanceID, r.Name, r.ImageID, r.SizeBytes))
	return f.disk, f.err
}
func (f *fakeBackend) Get(_ context.Context, i, n string) (provisioner.Disk, error) {
	f.got = append(f.got, "get "+i+" "+n)
	return f.disk, f.err
}
func (f *fakeBackend) List(_ context.Context, i string) ([]provisioner.Disk, error) {
	f.got = append(f.got, "list "+i)
	return []provisioner.Disk{f.disk}, f.err
}
func (f *fakeBackend) Resize(_ context.Context, i, n string, s uint64) (provisioner.Disk, error) {
	f.got = append(f.got, fmt.Sprintf("resize %s %s %d", i, n, s))
	return f.disk, f.err
}
func (f *fakeBackend) Flatten(_ context.Context, i, n string) (provisioner.Disk, error) {
	f.got = append(f.got, "flatten "+i+" "+n)
	return f.disk, f.err
}
func (f *fakeBackend) Delete(_ context.Context, i, n string) error {
	f.got = append(f.got, "delete "+i+" "+n)
	return f.err
}
func (f *fakeBackend) DeleteInstance(_ context.Context, i string) error {
	f.got = append(f.got, "delete-instance "+i)
	return f.err
}
func (f *fakeBackend) Attachment(_ context.Context, i, n, target string) (*libvirtxml.DomainDisk, error) {
	f.got = append(f.got, "attachment "+i+" "+n+" "+target)
	return &libvirtxml.DomainDisk{Device: "disk", Target: &libvirtxml.DomainDiskTarget{Dev: target}}, f.err
}
func (f *fakeBackend) Bases(context.Context) ([]provisioner.Base, error) {
	return []provisioner.Base{{ImageID: "11111111-1111-4111-8111-111111111111", Children: []string{"vms/i1_disk"}}}, f.err
}
func (f *fakeBackend) Prune(context.Context) ([]string, error) { return []string{"vms/base_x"}, f.err }
func (f *fakeBackend) Reap(context.Context) ([]string, error)  { return nil, f.err }

func quiet() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func TestErrorCodes(t *testing.T) {
	tests := []struct {
		err  error
		code int
	}{
		{errs.ErrInvalid, 400},
		{errs.ErrTooSmall, 400},
		{errs.ErrNotFound, 404},
		{&provisioner.ImageServiceError{Err: errs.ErrNotFound}, 404},
		{errs.ErrConflict, 409},
		{errs.ErrUnsafeImage, 422},
		{errs.ErrFormatMismatch, 422},
		{errs.ErrRefused, 422},
		{&provisioner.ImageServiceError{Err: errs.ErrUnavailable}, 502},
		{errs.ErrChecksum, 502},
		{errs.ErrUnavailable, 503},
		{errs.ErrTimeout, 503},
		{errors.New("boom"), 500},
	}
	for _, tc := range tests {
		t.Run(tc.err.Error(), func(t *testing.T) {
			srv := httptest.NewServer(stopAtEnd(t, New(&fakeBackend{err: fmt.Errorf("wrapped: %w", tc.err)}, quiet())))
			defer srv.Close()
			resp, err := http.Post(srv.URL+"/v1/disks", "application/json", strings.NewReader(`{"instance_id":"i1","image_id":"11111111-1111-4111-8111-111111111111"}`))
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			var body ErrorBody
			if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
				t.Fatal(err)
			}
			if resp.StatusCode != tc.code || body.Error.Code == "" || !strings.Contains(body.Error.Message, "wrapped") {
				t.Fatalf("%d %+v, want %d", resp.StatusCode, body, tc.code)
			}
		})
	}
}

func TestRoutesThroughClient(t *testing.T) {
	fb := &fakeBackend{disk: provisioner.Disk{InstanceID: "i1", Name: "disk", Pool: "vms", Image: "i1_disk", SizeBytes: 42,
		ImageID: "11111111-1111-4111-8111-111111111111", Method: provisioner.MethodClone, Parent: "images/11111111-1111-4111-8111-111111111111@snap"}}
	srv := httptest.NewServer(stopAtEnd(t, New(fb, quiet())))
	defer srv.Close()
	c := &Client{Base: srv.URL}
	ctx := context.Background()

	d, created, err := c.CreateDisk(ctx, CreateRequest{InstanceID: "i1", ImageID: "11111111-1111-4111-8111-111111111111", SizeBytes: 42})
	if err != nil || !created || d.Method != "clone" || d.Pool != "vms" || d.Reasons == nil {
		t.Fatalf("create: %+v %v %v", d, created, err)
	}
	fb.disk.Existed = true
	if _, created, err = c.CreateDisk(ctx, CreateRequest{InstanceID: "i1", ImageID: "11111111-1111-4111-8111-111111111111"}); err != nil || created {
		t.Fatalf("repeat create: created=%v %v, want 200", created, err)
	}
	steps := []func() error{
		func() error { _, err := c.ListDisks(ctx, "i1"); return err },
		func() error { _, err := c.GetDisk(ctx, "i1", "disk"); return err },
		func() error { _, err := c.Resize(ctx, "i1", "disk", 99); return err },
		func() error { _, err := c.Flatten(ctx, "i1", "disk"); return err },
		func() error {
			doc, err := c.LibvirtXML(ctx, "i1", "disk", "vdb")
			if err == nil && !strings.Contains(doc, `dev="vdb"`) {
				err = fmt.Errorf("xml %s", doc)
			}
			return err
		},
		func() error { return c.DeleteDisk(ctx, "i1", "disk") },
		func() error { return c.DeleteInstance(ctx, "i1") },
		func() error { b, err := c.Cache(ctx); _ = b; return err },
		func() error { _, err := c.Prune(ctx); return err },
	}
	for i, step := range steps {
		if err := step(); err != nil {
			t.Fatalf("step %d: %v", i, err)
		}
	}
	want := "create i1  11111111-1111-4111-8111-111111111111 42|create i1  11111111-1111-4111-8111-111111111111 0|list i1|get i1 disk|resize i1 disk 99|flatten i1 disk|attachment i1 disk vdb|delete i1 disk|delete-instance i1"
	if got := strings.Join(fb.got, "|"); got != want {
		t.Fatalf("calls\n%s\nwant\n%s", got, want)
	}
}

func TestBadBodiesAndHealth(t *testing.T) {
	srv := httptest.NewServer(stopAtEnd(t, New(&fakeBackend{}, quiet())))
	defer srv.Close()
	for _, body := range []string{`{`, `{"instance_id":"i1","image_id":"x","extra":1}`, `{"size_bytes":-1}`,
		`{"instance_id":"i1","image_id":"x"}{"instance_id":"i2"}`, `{"instance_id":"i1","image_id":"x"} x`} {
		resp, err := http.Post(srv.URL+"/v1/disks", "application/json", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 400 {
			t.Errorf("body %s: %d, want 400", body, resp.StatusCode)
		}
	}
	for path, want := range map[string]string{"/healthz": `"ok"`, "/metrics": "cowdisk_disk_failures_total"} {
		resp, err := http.Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || !strings.Contains(string(b), want) {
			t.Errorf("%s: %d %.200s", path, resp.StatusCode, b)
		}
	}
}

// A server without its backend yet (Ceph not connected) answers, with 503
// saying why, and serves once the backend is ready.
func TestPendingUntilReady(t *testing.T) {
	s := stopAtEnd(t, NewPending(quiet()))
	srv := httptest.NewServer(s)
	defer srv.Close()
	s.Starting("Ceph not connected: no monitor")
	get := func(path string) (int, string) { return httpGet(t, srv.URL+path) }
	for _, path := range []string{"/v1/disks?instance_id=i1", "/healthz", "/v1/cache"} {
		if code, body := get(path); code != 503 || !strings.Contains(body, "no monitor") || !strings.Contains(body, `"unavailable"`) {
			t.Errorf("pending %s: %d %s, want 503 saying why", path, code, body)
		}
	}
	if code, _ := get("/metrics"); code != 200 {
		t.Errorf("pending /metrics: %d", code)
	}
	s.Ready(&fakeBackend{}, func(context.Context) error { return nil })
	for _, path := range []string{"/v1/disks?instance_id=i1", "/healthz"} {
		if code, body := get(path); code != 200 {
			t.Errorf("ready %s: %d %s", path, code, body)
		}
	}
}
