package imagesvc

import (
	"context"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cowdisk/cowdisk/internal/imageclient"
	"github.com/cowdisk/cowdisk/internal/imagesvc/catalog"
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
