package agent_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/cowdisk/cowdisk/internal/agent"
	"github.com/cowdisk/cowdisk/internal/ceph"
	"github.com/cowdisk/cowdisk/internal/imageclient"
	"github.com/cowdisk/cowdisk/internal/imagesvc/auth"
	"github.com/cowdisk/cowdisk/internal/imagesvc/imagesvctest"
	"github.com/cowdisk/cowdisk/internal/provisioner"
	"github.com/cowdisk/cowdisk/internal/testcluster"
)

func TestMain(m *testing.M) { testcluster.MainNoLeaks(m) }

// authEnv is a node agent with token auth over the real dev cluster and an
// in-process image service that knows the same tokens.
type authEnv struct {
	t        *testing.T
	c        *ceph.Cluster
	vms      string
	imageURL string
	agentURL string
}

var testTokens = []auth.TokenEntry{
	{Token: "p1", Project: "p1", Roles: []string{auth.Member}},
	{Token: "p2", Project: "p2", Roles: []string{auth.Member}},
	{Token: "admin", Project: "admin", Roles: []string{auth.Admin}},
	{Token: "svc", Project: "service", Roles: []string{auth.Service}},
}

func newAuthEnv(t *testing.T) *authEnv {
	t.Helper()
	tokens, err := auth.NewTokens(testTokens)
	if err != nil {
		t.Fatal(err)
	}
	return newAuthEnvWith(t, tokens, "svc")
}

// newAuthEnvWith runs the image service and the agent with authenticator
// a; the agent reads locations with svcToken.
func newAuthEnvWith(t *testing.T, a auth.Authenticator, svcToken string) *authEnv {
	t.Helper()
	c := testcluster.Connect(t)
	images, vms := testcluster.Pools(t, "agent")
	e := &authEnv{t: t, c: c, vms: vms, imageURL: imagesvctest.Serve(t, a)}
	src, err := newCallerSource(t, e.imageURL, svcToken, imageclient.Options{})
	if err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelWarn}))
	rb, err := provisioner.NewRBD(provisioner.Ceph(c), src, provisioner.RBDConfig{ImagesPool: images, VMsPool: vms, Node: "agentauth"}, log)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(stopAtEnd(t, agent.New(rb, log, agent.WithAuth(a))))
	t.Cleanup(srv.Close)
	e.agentURL = srv.URL
	return e
}

func (e *authEnv) as(token string) *agent.Client {
	return &agent.Client{Base: e.agentURL, Token: token}
}

// upload makes a raw image of 2 MiB of random data as token's project.
func (e *authEnv) upload(token, visibility string) string {
	e.t.Helper()
	ctx := context.Background()
	ic, err := imageclient.New(e.imageURL, token, imageclient.Options{})
	if err != nil {
		e.t.Fatal(err)
	}
	img, err := ic.Create(ctx, imageclient.CreateOptions{Name: visibility, DiskFormat: "raw", ContainerFormat: "bare", Visibility: visibility})
	if err != nil {
		e.t.Fatalf("create %s image as %s: %v", visibility, token, err)
	}
	data := make([]byte, 2<<20)
	_, _ = rand.Read(data)
	if err := ic.Upload(ctx, img.ID, bytes.NewReader(data), int64(len(data))); err != nil {
		e.t.Fatal(err)
	}
	return img.ID
}

// share makes p1 a member of image id, owned by token's project.
func (e *authEnv) share(token, id, member string) {
	e.t.Helper()
	req, _ := http.NewRequest(http.MethodPost, e.imageURL+"/v2/images/"+id+"/members", strings.NewReader(`{"member":"`+member+`"}`))
	req.Header.Set("X-Auth-Token", token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		e.t.Fatalf("add member %s to %s: %d", member, id, resp.StatusCode)
	}
}

// wantStatus checks that err is the agent's answer with the given status.
func wantStatus(t *testing.T, what string, err error, code int) {
	t.Helper()
	var ae *agent.APIError
	if !errors.As(err, &ae) || ae.Status != code {
		t.Errorf("%s: %v, want %d", what, err, code)
	}
}

// cleanAll removes every disk and base as admin and checks the pool is
// empty, at the end of the test (after the failure checks).
func (e *authEnv) cleanAll(instances ...string) { e.cleanAllAs("admin", instances...) }

// cleanAllAs is cleanAll with an admin or service token.
func (e *authEnv) cleanAllAs(token string, instances ...string) {
	e.t.Helper()
	ctx := context.Background()
	admin := e.as(token)
	for _, i := range instances {
		if err := admin.DeleteInstance(ctx, i); err != nil {
			e.t.Errorf("delete %s: %v", i, err)
		}
	}
	if _, err := admin.Prune(ctx); err != nil {
		e.t.Errorf("prune: %v", err)
	}
	e.assertClean()
}

// assertClean checks the vms pool holds nothing but allowed.
func (e *authEnv) assertClean(allowed ...string) {
	e.t.Helper()
	testcluster.AssertPoolClean(e.t, e.c, e.vms, allowed...)
}

func TestAgentNeedsAToken(t *testing.T) {
	e := newAuthEnv(t)
	ctx := context.Background()
	for _, token := range []string{"", "nobody", strings.Repeat("x", 9000)} {
		_, err := e.as(token).ListDisks(ctx, "")
		wantStatus(t, "list with token "+token[:min(len(token), 8)], err, http.StatusUnauthorized)
		_, _, err = e.as(token).CreateDisk(ctx, agent.CreateRequest{InstanceID: "noauth1", ImageID: "x"})
		wantStatus(t, "create with token "+token[:min(len(token), 8)], err, http.StatusUnauthorized)
	}
	for _, path := range []string{"/healthz", "/metrics"} { // open on purpose
		resp, err := http.Get(e.agentURL + path)
		if err != nil || resp.StatusCode != http.StatusOK {
			t.Errorf("%s without a token: %v %v", path, resp.Status, err)
		}
		resp.Body.Close()
	}
	testcluster.AssertPoolClean(t, e.c, e.vms)
}

// A project's disk is its own: another project can neither see, change nor
// delete it (404 each, as for a missing disk), nor boot its private image;
// admin and service see everything; owners survive resize and flatten.
func TestAgentDisksBelongToTheirProject(t *testing.T) {
	e := newAuthEnv(t)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	p1, p2, admin, svc := e.as("p1"), e.as("p2"), e.as("admin"), e.as("svc")
	priv1 := e.upload("p1", "private")
	priv2 := e.upload("p2", "private")
	public := e.upload("admin", "public")
	shared := e.upload("p2", "shared")
	e.share("p2", shared, "p1")
	defer e.cleanAll("inst-a", "inst-b", "inst-c", "inst-d", "inst-legacy")

	d, created, err := p1.CreateDisk(ctx, agent.CreateRequest{InstanceID: "inst-a", ImageID: priv1, SizeBytes: 4 << 20})
	if err != nil || !created || d.Owner != "p1" || d.ImageID != priv1 {
		t.Fatalf("p1 boots its own image: %+v %v", d, err)
	}

	// p2 cannot boot p1's private image: 404, and nothing new in the pool.
	before, err := e.c.ListImages(ctx, e.vms)
	if err != nil {
		t.Fatal(err)
	}
	_, _, err = p2.CreateDisk(ctx, agent.CreateRequest{InstanceID: "inst-b", ImageID: priv1})
	wantStatus(t, "p2 boots p1's private image", err, http.StatusNotFound)
	testcluster.AssertPoolClean(t, e.c, e.vms, before...)

	// p2 cannot touch p1's disk, and gets the answer a missing disk gets.
	_, missing := p2.GetDisk(ctx, "inst-none", "disk")
	wantStatus(t, "p2 reads a missing disk", missing, http.StatusNotFound)
	steps := map[string]func() error{
		"read":    func() error { _, err := p2.GetDisk(ctx, "inst-a", "disk"); return err },
		"resize":  func() error { _, err := p2.Resize(ctx, "inst-a", "disk", 8<<20); return err },
		"flatten": func() error { _, err := p2.Flatten(ctx, "inst-a", "disk"); return err },
		"xml":     func() error { _, err := p2.LibvirtXML(ctx, "inst-a", "disk", ""); return err },
		"delete":  func() error { return p2.DeleteDisk(ctx, "inst-a", "disk") },
	}
	for name, step := range steps {
		err := step()
		wantStatus(t, "p2 "+name+"s p1's disk", err, http.StatusNotFound)
		if err != nil && strings.Replace(err.Error(), "inst-a", "inst-none", 1) != missing.Error() {
			t.Errorf("p2 %s: %q differs from a missing disk's %q", name, err, missing)
		}
	}
	if err := p2.DeleteInstance(ctx, "inst-a"); err != nil {
		t.Errorf("p2 deletes instance inst-a: %v, want 204 removing nothing of p1's", err)
	}
	if list, err := p2.ListDisks(ctx, ""); err != nil || len(list) != 0 {
		t.Errorf("p2 lists: %+v %v, want nothing", list, err)
	}
	_, _, err = p2.CreateDisk(ctx, agent.CreateRequest{InstanceID: "inst-a", ImageID: priv2})
	wantStatus(t, "p2 creates over p1's disk name", err, http.StatusConflict)
	if err != nil && strings.Contains(err.Error(), priv1) {
		t.Errorf("conflict names p1's image: %v", err)
	}

	// The disk is intact and still p1's after resize and flatten.
	if d, err = p1.Resize(ctx, "inst-a", "disk", 8<<20); err != nil || d.SizeBytes != 8<<20 || d.Owner != "p1" {
		t.Fatalf("p1 resizes: %+v %v", d, err)
	}
	if d, err = p1.Flatten(ctx, "inst-a", "disk"); err != nil || d.Parent != "" || d.Owner != "p1" || d.ImageID != priv1 {
		t.Fatalf("p1 flattens: %+v %v", d, err)
	}
	wantStatus(t, "p2 reads the flattened disk", func() error { _, err := p2.GetDisk(ctx, "inst-a", "disk"); return err }(), http.StatusNotFound)
	if doc, err := p1.LibvirtXML(ctx, "inst-a", "disk", ""); err != nil || !strings.Contains(doc, "inst-a_disk") {
		t.Errorf("p1 xml: %v %.200s", err, doc)
	}

	// p1 boots a public image and one shared with it; p2's private one stays out of reach.
	for inst, id := range map[string]string{"inst-c": public, "inst-d": shared} {
		if d, _, err := p1.CreateDisk(ctx, agent.CreateRequest{InstanceID: inst, ImageID: id}); err != nil || d.Owner != "p1" {
			t.Errorf("p1 boots %s: %+v %v", inst, d, err)
		}
	}
	_, _, err = p1.CreateDisk(ctx, agent.CreateRequest{InstanceID: "inst-b", ImageID: priv2})
	wantStatus(t, "p1 boots p2's private image", err, http.StatusNotFound)

	// The cache spans projects: admin and service only.
	_, err = p1.Cache(ctx)
	wantStatus(t, "p1 lists the cache", err, http.StatusForbidden)
	_, err = p1.Prune(ctx)
	wantStatus(t, "p1 prunes the cache", err, http.StatusForbidden)
	if bases, err := svc.Cache(ctx); err != nil || len(bases) != 3 {
		t.Errorf("service lists the cache: %+v %v, want 3 bases", bases, err)
	}
	e.legacyDiskIsPrivileged(ctx, p1, admin, svc, public)

	if list, err := p1.ListDisks(ctx, ""); err != nil || len(list) != 3 {
		t.Errorf("p1 lists: %+v %v, want its 3 disks", list, err)
	}
	if err := p1.DeleteDisk(ctx, "inst-a", "disk"); err != nil {
		t.Fatalf("p1 deletes its disk: %v", err)
	}
	wantStatus(t, "p1 deletes it again", p1.DeleteDisk(ctx, "inst-a", "disk"), http.StatusNotFound)
}

// legacyDiskIsPrivileged: a disk made before owners were recorded (no
// metadata) is shown to admin and service only.
func (e *authEnv) legacyDiskIsPrivileged(ctx context.Context, p1, admin, svc *agent.Client, imageID string) {
	t := e.t
	bases, err := admin.Cache(ctx)
	if err != nil || len(bases) == 0 {
		t.Fatalf("cache: %v", err)
	}
	var parent ceph.SnapRef
	for _, b := range bases {
		if b.ImageID == imageID {
			parent = ceph.SnapRef{Pool: b.Pool, Image: b.Image, Snap: b.Snapshot}
		}
	}
	if err := e.c.Clone(ctx, parent, e.vms, "inst-legacy_disk", ceph.ImageOptions{}); err != nil {
		t.Fatal(err)
	}
	_, err = p1.GetDisk(ctx, "inst-legacy", "disk")
	wantStatus(t, "p1 reads an unowned disk", err, http.StatusNotFound)
	for name, c := range map[string]*agent.Client{"admin": admin, "service": svc} {
		if d, err := c.GetDisk(ctx, "inst-legacy", "disk"); err != nil || d.Owner != "" || d.ImageID != imageID {
			t.Errorf("%s reads the unowned disk: %+v %v", name, d, err)
		}
		if list, err := c.ListDisks(ctx, "inst-legacy"); err != nil || len(list) != 1 {
			t.Errorf("%s lists the unowned disk: %+v %v", name, list, err)
		}
	}
}
