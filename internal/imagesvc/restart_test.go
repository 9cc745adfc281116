package imagesvc

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cowdisk/cowdisk/internal/ceph"
	"github.com/cowdisk/cowdisk/internal/imageclient"
	"github.com/cowdisk/cowdisk/internal/imagesvc/catalog"
	"github.com/cowdisk/cowdisk/internal/imagesvc/store/rbdstore"
)

// TestRestartAfterCrash: a catalog with an image stuck in saving and a
// store with a half-written file, as a crash leaves them; after a start the
// image is queued, the file gone, and the catalog's other records intact.
func TestRestartAfterCrash(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	cfg := Config{Listen: "127.0.0.1:0", DB: filepath.Join(dir, "c.db"), FileDir: filepath.Join(dir, "images"),
		Auth: "none", Logger: slog.New(slog.NewTextHandler(t.Output(), nil))}
	s, err := Start(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	cl, err := imageclient.New("http://"+s.Addr(), "", imageclient.Options{})
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, name := range []string{"kept", "cut"} {
		img, err := cl.Create(ctx, imageclient.CreateOptions{Name: name, DiskFormat: "raw", ContainerFormat: "bare"})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, img.ID)
	}
	if err := cl.Upload(ctx, ids[0], strings.NewReader("data"), 4); err != nil {
		t.Fatal(err)
	}
	s.Shutdown()

	cat, err := catalog.OpenSQLite(ctx, cfg.DB)
	if err != nil {
		t.Fatal(err)
	}
	cat.Update(ctx, ids[1], func(i *catalog.Image) error { i.Status = catalog.StatusSaving; return nil })
	cat.Close()
	os.WriteFile(filepath.Join(cfg.FileDir, ".tmp-"+ids[1]+"-1"), []byte("half"), 0o600)

	s, err = Start(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Shutdown()
	cl, _ = imageclient.New("http://"+s.Addr(), "", imageclient.Options{})
	for i, want := range []string{"active", "queued"} {
		if img, err := cl.Get(ctx, ids[i]); err != nil || img.Status != want {
			t.Fatalf("image %d after restart: %+v %v", i, img, err)
		}
	}
	if ents, _ := os.ReadDir(cfg.FileDir); len(ents) != 1 {
		t.Fatalf("store after restart: %v", ents)
	}
	if err := cl.Upload(ctx, ids[1], strings.NewReader("again"), 5); err != nil {
		t.Fatalf("upload after recovery: %v", err)
	}
}

// TestShutdownCutsUploads: an upload still running when the shutdown
// timeout ends is cut, and cleans up before the catalog closes.
func TestShutdownCutsUploads(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	cfg := Config{Listen: "127.0.0.1:0", DB: filepath.Join(dir, "c.db"), FileDir: filepath.Join(dir, "images"),
		Auth: "none", ShutdownTimeout: 300 * time.Millisecond, Logger: slog.New(slog.NewTextHandler(t.Output(), nil))}
	s, err := Start(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	cl, _ := imageclient.New("http://"+s.Addr(), "", imageclient.Options{})
	img, err := cl.Create(ctx, imageclient.CreateOptions{Name: "slow", DiskFormat: "raw", ContainerFormat: "bare"})
	if err != nil {
		t.Fatal(err)
	}
	pr, pw := io.Pipe()
	go pw.Write(make([]byte, 1<<20)) // then nothing: a stalled client
	uploadErr := make(chan error, 1)
	go func() { uploadErr <- cl.Upload(ctx, img.ID, pr, -1) }()
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		got, _ := cl.Get(ctx, img.ID)
		if got.Status == "saving" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("upload never started")
		}
	}
	if err := s.Shutdown(); err != nil {
		t.Fatal(err)
	}
	pw.Close()
	if err := <-uploadErr; err == nil {
		t.Fatal("upload cut by shutdown reported success")
	}
	cat, err := catalog.OpenSQLite(ctx, cfg.DB)
	if err != nil {
		t.Fatal(err)
	}
	defer cat.Close()
	if got, err := cat.Get(ctx, img.ID); err != nil || got.Status != catalog.StatusQueued {
		t.Fatalf("image after shutdown: %+v %v", got, err)
	}
	if ents, _ := os.ReadDir(cfg.FileDir); len(ents) != 0 {
		t.Fatalf("store after shutdown: %v", ents)
	}
}

// TestStartWithoutMonitor: with no monitor to reach, the rbd-store service
// still listens: the catalog answers, /healthz says it is not connected,
// and image data is 503 (it exited after the mount timeout before). It
// shuts down cleanly while still trying to connect.
func TestStartWithoutMonitor(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	conf := filepath.Join(dir, "ceph.conf")
	// Port 1 on loopback: nothing listens, every connect attempt fails.
	if err := os.WriteFile(conf, []byte("[global]\nmon_host = 127.0.0.1:1\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := Config{Listen: "127.0.0.1:0", DB: filepath.Join(dir, "c.db"), Store: "rbd", Auth: "none",
		RBD:             rbdstore.Config{Pool: "images"},
		Ceph:            ceph.Config{ConfPath: conf, User: "admin", MountTimeout: time.Second},
		ShutdownTimeout: 5 * time.Second, Logger: slog.New(slog.NewTextHandler(t.Output(), nil))}
	start := time.Now()
	s, err := Start(ctx, cfg)
	if err != nil {
		t.Fatalf("start without a monitor: %v", err)
	}
	if d := time.Since(start); d > 500*time.Millisecond {
		t.Errorf("Start took %s: it must not wait for Ceph", d)
	}
	base := "http://" + s.Addr()
	resp, err := http.Get(base + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusServiceUnavailable || !strings.Contains(string(b), "Ceph") {
		t.Errorf("/healthz: %d %s, want 503 naming Ceph", resp.StatusCode, b)
	}
	cl, err := imageclient.New(base, "", imageclient.Options{})
	if err != nil {
		t.Fatal(err)
	}
	img, err := cl.Create(ctx, imageclient.CreateOptions{Name: "x", DiskFormat: "raw", ContainerFormat: "bare"})
	if err != nil {
		t.Fatalf("the catalog must answer without Ceph: %v", err)
	}
	req, _ := http.NewRequest("PUT", base+"/v2/images/"+img.ID+"/file", strings.NewReader("data"))
	req.Header.Set("Content-Type", "application/octet-stream")
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusServiceUnavailable {
		t.Errorf("upload without Ceph: %d, want 503", resp.StatusCode)
	}
	got, err := cl.Get(ctx, img.ID)
	if err != nil || got.Status != "queued" {
		t.Errorf("after the refused upload: %+v %v, want queued", got, err)
	}
	done := time.Now()
	if err := s.Shutdown(); err != nil {
		t.Error(err)
	}
	if d := time.Since(done); d > 5*time.Second {
		t.Errorf("shutdown while connecting took %s", d)
	}
}
