package imagesvc

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cowdisk/cowdisk/internal/imageclient"
	"github.com/cowdisk/cowdisk/internal/imagesvc/catalog"
)

// TestImportShutdownRestart: a shutdown cuts a web-download that is still
// running (the image goes back to queued with the failure recorded and
// nothing stored), and a restart puts a staged-but-not-imported image back
// to queued and empties the staging area.
func TestImportShutdownRestart(t *testing.T) {
	ctx := context.Background()
	started := make(chan struct{}, 1)
	origin := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", "10000000")
		w.Write(make([]byte, 1<<20))
		w.(http.Flusher).Flush()
		started <- struct{}{}
		<-r.Context().Done() // never finishes
	}))
	defer origin.Close()
	dir := t.TempDir()
	cfg := Config{Listen: "127.0.0.1:0", DB: filepath.Join(dir, "c.db"), FileDir: filepath.Join(dir, "images"),
		Auth: "none", Logger: slog.New(slog.NewTextHandler(t.Output(), nil)),
		Import: ImportConfig{StagingDir: filepath.Join(dir, "staging"), WebDownloadAllow: []string{"127.0.0.1"}}}
	s, err := Start(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	cl, err := imageclient.New("http://"+s.Addr(), "", imageclient.Options{})
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, name := range []string{"downloading", "staged"} {
		img, err := cl.Create(ctx, imageclient.CreateOptions{Name: name, DiskFormat: "raw", ContainerFormat: "bare"})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, img.ID)
	}
	if code, body, err := send(s, "PUT", "/v2/images/"+ids[1]+"/stage", "", "application/octet-stream",
		strings.NewReader("staged data")); err != nil || code != 204 {
		t.Fatalf("stage: %d %s %v", code, body, err)
	}
	if code, body, err := send(s, "POST", "/v2/images/"+ids[0]+"/import", "", "application/json",
		strings.NewReader(`{"method":{"name":"web-download","uri":"`+origin.URL+`/img"}}`)); err != nil || code != 202 {
		t.Fatalf("import: %d %s %v", code, body, err)
	}
	<-started
	if err := s.Shutdown(); err != nil {
		t.Fatal(err)
	}
	cat, err := catalog.OpenSQLite(ctx, cfg.DB)
	if err != nil {
		t.Fatal(err)
	}
	for i, want := range []string{"queued", "uploading"} {
		img, err := cat.Get(ctx, ids[i])
		if err != nil || img.Status != want {
			t.Fatalf("image %d after shutdown: %s %v", i, img.Status, err)
		}
	}
	if img, _ := cat.Get(ctx, ids[0]); img.Properties["os_glance_failed_import"] != "file" ||
		img.Properties["os_glance_import_task"] != "" {
		t.Fatalf("cut import not recorded as failed: %v", img.Properties)
	}
	cat.Close()

	s, err = Start(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Shutdown()
	cl, _ = imageclient.New("http://"+s.Addr(), "", imageclient.Options{})
	if img, err := cl.Get(ctx, ids[1]); err != nil || img.Status != "queued" {
		t.Fatalf("staged image after restart: %+v %v", img, err)
	}
	for _, d := range []string{cfg.Import.StagingDir, cfg.FileDir} {
		if ents, _ := os.ReadDir(d); len(ents) != 0 {
			t.Fatalf("%s after restart: %v", d, ents)
		}
	}
}
