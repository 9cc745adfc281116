package imagesvc

import (
	"bytes"
	"context"
	"crypto/md5"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack/image/v2/imagedata"
	"github.com/gophercloud/gophercloud/v2/openstack/image/v2/images"

	"github.com/cowdisk/cowdisk/internal/ceph"
	"github.com/cowdisk/cowdisk/internal/errs"
	"github.com/cowdisk/cowdisk/internal/imagesvc/store/rbdstore"
	"github.com/cowdisk/cowdisk/internal/imagesvc/store/storetest"
	"github.com/cowdisk/cowdisk/internal/rbdloc"
	"github.com/cowdisk/cowdisk/internal/testcluster"
)

func TestMain(m *testing.M) { testcluster.MainNoLeaks(m) }

var pools struct {
	once        sync.Once
	images, vms string
}

// startRBD runs the service on a free loopback port with the RBD store.
// startRBD runs the service with the RBD store; opts change its config.
func startRBD(t testing.TB, opts ...func(*Config)) (*Service, *ceph.Cluster, string, string) {
	t.Helper()
	c := testcluster.Connect(t)
	pools.once.Do(func() { pools.images, pools.vms = testcluster.Pools(t, "imagesvc-server") })
	if pools.images == "" {
		t.Fatal("pools were not created (see the first test's failure)")
	}
	tokens := filepath.Join(t.TempDir(), "tokens.json")
	os.WriteFile(tokens, []byte(`{"tokens":[{"token":"member","project":"p1","roles":["member"]},
		{"token":"svc","project":"svc","roles":["service"]}]}`), 0o600)
	cfg := Config{Listen: "127.0.0.1:0", DB: filepath.Join(t.TempDir(), "c.db"),
		Store: "rbd", RBD: benchRBD(rbdstore.Config{Pool: pools.images, ProtectSnapshot: true}), Ceph: testcluster.Config(t),
		Auth: "tokens", TokensFile: tokens, ShowLocations: true, ShutdownTimeout: 5 * time.Second,
		Logger: slog.New(slog.NewTextHandler(t.Output(), nil))}
	for _, o := range opts {
		o(&cfg)
	}
	s, err := Start(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Shutdown() })
	waitHealthy(t, s)
	return s, c, pools.images, pools.vms
}

// waitHealthy waits for /healthz 200: the rbd store connects after Start
// returns.
func waitHealthy(t testing.TB, s *Service) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := http.Get("http://" + s.Addr() + "/healthz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("image service not healthy after 30 s: %v", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func client(s *Service, token string) *gophercloud.ServiceClient {
	pc := &gophercloud.ProviderClient{}
	pc.SetToken(token)
	u := "http://" + s.Addr() + "/"
	return &gophercloud.ServiceClient{ProviderClient: pc, Endpoint: u, ResourceBase: u + "v2/"}
}

type onlyReader struct{ io.Reader }

// TestServeRBD runs the whole path against the dev cluster: gophercloud
// upload (chunked) into RBD, the location the provisioner will read,
// read-back, a clone that blocks delete, and a clean pool at the end.
func TestServeRBD(t *testing.T) {
	ctx := context.Background()
	s, c, pool, vms := startRBD(t)
	member, svc := client(s, "member"), client(s, "svc")
	data := storetest.Data(20<<20+3, 11)
	img, err := images.Create(ctx, member, images.CreateOpts{Name: "cirros", DiskFormat: "raw", ContainerFormat: "bare"}).Extract()
	if err != nil {
		t.Fatal(err)
	}
	if err := imagedata.Upload(ctx, member, img.ID, onlyReader{bytes.NewReader(data)}).ExtractErr(); err != nil {
		t.Fatal(err)
	}
	got, err := images.Get(ctx, svc, img.ID).Extract()
	if err != nil {
		t.Fatal(err)
	}
	sum := md5.Sum(data)
	want := rbdloc.Location{FSID: c.FSID(), Pool: pool, Image: img.ID, Snapshot: "snap"}.String()
	if got.Properties["direct_url"] != want || got.Checksum != hex.EncodeToString(sum[:]) ||
		got.SizeBytes != int64(len(data)) || got.Status != images.ImageStatusActive {
		t.Fatalf("image %+v, want direct_url %s", got, want)
	}
	body, err := imagedata.Download(ctx, member, img.ID).Extract()
	if err != nil {
		t.Fatal(err)
	}
	back, err := io.ReadAll(body)
	body.Close()
	if err != nil || !bytes.Equal(back, data) {
		t.Fatalf("download differs from upload (%d bytes, %v)", len(back), err)
	}

	disk := "5d1c0000-0000-4000-8000-000000000001_disk"
	t.Cleanup(func() { images.Delete(context.Background(), member, img.ID) })
	// The clone keeps the parent's 8 MiB objects: librbd refuses a child
	// whose object size is not a multiple of the parent's stripe unit.
	if err := c.Clone(ctx, ceph.SnapRef{Pool: pool, Image: img.ID, Snap: "snap"}, vms, disk,
		ceph.ImageOptions{ObjectSizeOrder: 23}); err != nil {
		t.Fatal(err)
	}
	err = images.Delete(ctx, member, img.ID).ExtractErr()
	var ue gophercloud.ErrUnexpectedResponseCode
	if !errors.As(err, &ue) || ue.Actual != http.StatusConflict || !strings.Contains(string(ue.Body), "1 dependent disk") {
		t.Fatalf("delete with a clone: %v", err)
	}
	if err := c.Remove(ctx, vms, disk, ceph.RemoveOptions{Retries: -1}); err != nil {
		t.Fatal(err)
	}
	if err := images.Delete(ctx, member, img.ID).ExtractErr(); err != nil {
		t.Fatal(err)
	}
	testcluster.AssertPoolClean(t, c, pool)
	testcluster.AssertPoolClean(t, c, vms)
}

// TestCutUploadRBD drops a chunked upload midway: the pool stays clean and
// the image queued.
func TestCutUploadRBD(t *testing.T) {
	ctx := context.Background()
	s, c, pool, _ := startRBD(t)
	member := client(s, "member")
	img, err := images.Create(ctx, member, images.CreateOpts{Name: "cut", DiskFormat: "raw", ContainerFormat: "bare"}).Extract()
	if err != nil {
		t.Fatal(err)
	}
	conn, err := net.Dial("tcp", s.Addr())
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprintf(conn, "PUT /v2/images/%s/file HTTP/1.1\r\nHost: x\r\nX-Auth-Token: member\r\n"+
		"Content-Type: application/octet-stream\r\nTransfer-Encoding: chunked\r\n\r\n", img.ID)
	chunk := storetest.Data(9<<20, 2)
	fmt.Fprintf(conn, "%x\r\n%s\r\n", len(chunk), chunk)
	time.Sleep(500 * time.Millisecond)
	conn.Close()
	deadline := time.Now().Add(30 * time.Second)
	for {
		got, err := images.Get(ctx, member, img.ID).Extract()
		if err != nil {
			t.Fatal(err)
		}
		if got.Status == images.ImageStatusQueued {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("image still %s after the cut", got.Status)
		}
		time.Sleep(50 * time.Millisecond)
	}
	testcluster.AssertPoolClean(t, c, pool)
}

func TestHealthMetricsShutdown(t *testing.T) {
	dir := t.TempDir()
	s, err := Start(context.Background(), Config{Listen: "127.0.0.1:0", DB: filepath.Join(dir, "c.db"),
		FileDir: filepath.Join(dir, "images"), Auth: "none", Logger: slog.New(slog.NewTextHandler(t.Output(), nil))})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ path, want string }{ // in order: /metrics counts the requests before it
		{"/readyz", `"status":"ok"`}, {"/healthz", `"status":"ok"`}, {"/v2/images", `"images"`}, {"/metrics", `cowdisk_images_http_requests_total{code="200",route="GET /v2/images"} 1`},
	} {
		path, want := tc.path, tc.want
		resp, err := http.Get("http://" + s.Addr() + path)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || !strings.Contains(string(b), want) {
			t.Errorf("%s: %d %.200s", path, resp.StatusCode, b)
		}
	}
	if err := s.Shutdown(); err != nil {
		t.Fatal(err)
	}
	if _, err := http.Get("http://" + s.Addr() + "/healthz"); err == nil {
		t.Fatal("still serving after shutdown")
	}
}

func TestConfigRefused(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		name string
		cfg  Config
		want error
	}{
		{"auth none on all interfaces", Config{Listen: "0.0.0.0:0", Auth: "none"}, errs.ErrRefused},
		{"unknown auth", Config{Listen: "127.0.0.1:0", Auth: "ldap"}, errs.ErrInvalid},
		{"unknown store", Config{Listen: "127.0.0.1:0", Store: "s3", DB: filepath.Join(dir, "a.db")}, errs.ErrInvalid},
		{"no file dir", Config{Listen: "127.0.0.1:0", DB: filepath.Join(dir, "b.db")}, errs.ErrInvalid},
	} {
		if _, err := Start(context.Background(), tc.cfg); !errors.Is(err, tc.want) {
			t.Errorf("%s: %v, want %v", tc.name, err, tc.want)
		}
	}
}

// benchRBD lets the benchmark try other write sizes and worker counts
// (COWDISK_BENCH_WRITE_SIZE, COWDISK_BENCH_WORKERS); tests use the defaults.
func benchRBD(c rbdstore.Config) rbdstore.Config {
	fmt.Sscan(os.Getenv("COWDISK_BENCH_WRITE_SIZE"), &c.WriteSize)
	fmt.Sscan(os.Getenv("COWDISK_BENCH_WORKERS"), &c.Workers)
	return c
}
