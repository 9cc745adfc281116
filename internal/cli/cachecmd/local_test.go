package cachecmd_test

import (
	"log/slog"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/cowdisk/cowdisk/internal/agent"
	"github.com/cowdisk/cowdisk/internal/cli/cachecmd"
	"github.com/cowdisk/cowdisk/internal/cli/diskcmd"
	"github.com/cowdisk/cowdisk/internal/imageclient"
	"github.com/cowdisk/cowdisk/internal/imagesvc/auth"
	"github.com/cowdisk/cowdisk/internal/imagesvc/imagesvctest"
	"github.com/cowdisk/cowdisk/internal/provisioner"
)

// The local backend showed its bases as "….raw@snap-…@snap-…" in cache ls
// and `disk tree` drew an extra, empty base per image.
func TestLocalBackendNames(t *testing.T) {
	imageURL := imagesvctest.Serve(t, auth.None{Project: "p"})
	ic, err := imageclient.New(imageURL, "", imageclient.Options{})
	if err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelWarn}))
	dir := t.TempDir()
	lb, err := provisioner.NewLocal(provisioner.ClientSource{Client: ic}, provisioner.LocalConfig{Dir: dir}, log)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(agent.New(lb, log))
	t.Cleanup(srv.Close)
	e := &env{t: t, agentURL: srv.URL, ic: ic}
	img := e.qcow2()
	e.must(diskcmd.Command, "create", "--instance", inst1, "--image", img)

	ls := e.must(cachecmd.Command, "ls")
	if strings.Count(ls, "@") != 1 || !strings.Contains(ls, dir+"/bases/"+img+"@") || !strings.Contains(ls, ".raw ") {
		t.Fatalf("cache ls names the base oddly:\n%s", ls)
	}
	tree := e.must(diskcmd.Command, "tree")
	want := "image " + img + "\n└── " + dir + "/bases/" + img + "@"
	if !strings.HasPrefix(tree, want) || strings.Count(tree, "── ") != 2 {
		t.Fatalf("tree: want one base with one disk:\n%s", tree)
	}
	if out := e.must(cachecmd.Command, "prune", "--dry-run"); !strings.HasPrefix(out, "would remove (dry run) 0 base(s)") {
		t.Fatalf("prune --dry-run with a disk on the base:\n%s", out)
	}
}
