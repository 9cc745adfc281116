package imagecmd

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cowdisk/cowdisk/internal/errs"
	"github.com/cowdisk/cowdisk/internal/imageclient"
	"github.com/cowdisk/cowdisk/internal/ostest"
	"github.com/cowdisk/cowdisk/internal/testcluster"
)

func TestMain(m *testing.M) { testcluster.Main(m) }

// The same frictions against OpenStack's own Glance (Debian's glance-api on
// the dev cluster's RBD store): lookup by name, a missing image named once,
// a refused upload leaving no record, sparse download.
func TestAgainstRealGlance(t *testing.T) {
	t.Setenv("OS_AUTH_URL", "")
	c := testcluster.Connect(t)
	pool, _ := testcluster.Pools(t, "clifrg")
	g := ostest.StartGlance(t, ostest.GlanceOptions{CephConf: c.Config().ConfPath, Pool: pool})
	dir := t.TempDir()
	src := filepath.Join(dir, "d.raw")
	data := make([]byte, 4<<20)
	copy(data[1<<20:], "data")
	os.WriteFile(src, data, 0o600)

	out, _, err := run(t, g.URL, "create", "gl-solo", "--file", src, "--json")
	var img imageclient.Image
	if err != nil || json.Unmarshal([]byte(out), &img) != nil || img.Status != "active" {
		t.Fatalf("create: %v %s (%s)", err, out, g.LogTail())
	}
	if out, _, err := run(t, g.URL, "show", "gl-solo"); err != nil || !strings.Contains(out, img.ID) || !strings.Contains(out, "4 MiB") {
		t.Fatalf("show by name: %v\n%s", err, out)
	}
	dst := filepath.Join(dir, "back.raw")
	if _, _, err := run(t, g.URL, "download", "gl-solo", "-o", dst); err != nil {
		t.Fatal(err)
	}
	if got, _ := os.ReadFile(dst); !bytes.Equal(got, data) {
		t.Fatal("download differs")
	}
	const missing = "0c0ffee0-0000-4000-8000-000000000000"
	cl, _ := imageclient.New(g.URL, "", imageclient.Options{})
	_, err = cl.Get(t.Context(), missing)
	if !errors.Is(err, errs.ErrNotFound) || strings.Count(err.Error(), missing) != 1 || strings.Contains(err.Error(), "\n") {
		t.Fatalf("missing image from Glance: %q", err)
	}
	// Glance's own pages, read strictly: its next links are followed,
	// its records and ids pass, and an update answers as asked.
	for _, name := range []string{"gl-page-1", "gl-page-2"} {
		page, err := cl.Create(t.Context(), imageclient.CreateOptions{Name: name, DiskFormat: "raw", ContainerFormat: "bare"})
		if err != nil {
			t.Fatalf("create %s in Glance: %v", name, err)
		}
		defer cl.Delete(context.Background(), page.ID)
	}
	all, err := cl.List(t.Context(), imageclient.ListOptions{PageSize: 1})
	if err != nil || len(all) != 3 {
		t.Fatalf("list Glance's images a page of one at a time: %d images, %v", len(all), err)
	}
	renamed := "gl-page-renamed"
	if up, err := cl.Update(t.Context(), all[0].ID, imageclient.Update{Name: &renamed}); err != nil || up.Name != renamed {
		t.Fatalf("update in Glance: %+v %v", up, err)
	}
	// Ctrl-C during the upload leaves no record.
	ctx, cancel := context.WithCancel(t.Context())
	c2 := Command()
	c2.SetIn(&cancelReader{cancel: cancel})
	c2.SetOut(&bytes.Buffer{})
	c2.SetErr(&bytes.Buffer{})
	c2.SetArgs([]string{"--endpoint", g.URL, "create", "gl-cut", "--file", "-"})
	if err := c2.ExecuteContext(ctx); err == nil || !strings.Contains(err.Error(), "record deleted again") {
		t.Fatalf("interrupted create: %v", err)
	}
	if _, _, err := run(t, g.URL, "show", "gl-cut"); !errors.Is(err, errs.ErrNotFound) {
		t.Fatalf("gl-cut left behind: %v", err)
	}
	if _, _, err := run(t, g.URL, "delete", "gl-solo"); err != nil {
		t.Fatal(err)
	}
	testcluster.AssertPoolClean(t, c, pool)
}
