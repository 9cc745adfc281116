package provisioner_test

import (
	"bytes"
	"context"
	"crypto/sha512"
	"encoding/hex"
	"io"
	"log/slog"
	"net/http/httptest"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack/image/v2/imagedata"
	"github.com/gophercloud/gophercloud/v2/openstack/image/v2/images"

	"github.com/cowdisk/cowdisk/internal/ceph"
	"github.com/cowdisk/cowdisk/internal/imagesvc/api"
	"github.com/cowdisk/cowdisk/internal/imagesvc/auth"
	"github.com/cowdisk/cowdisk/internal/imagesvc/catalog"
	"github.com/cowdisk/cowdisk/internal/imagesvc/store"
	"github.com/cowdisk/cowdisk/internal/imagesvc/store/filestore"
	"github.com/cowdisk/cowdisk/internal/imagesvc/store/rbdstore"
	"github.com/cowdisk/cowdisk/internal/provisioner"
	"github.com/cowdisk/cowdisk/internal/testcluster"
)

func TestMain(m *testing.M) { testcluster.Main(m) }

const mib = 1 << 20

// clusterEnv is the real thing in one process: the dev cluster, a per-package
// pair of pools, and image services over real HTTP.
type clusterEnv struct {
	c                   *ceph.Cluster
	imagesPool, vmsPool string
}

// pools are made (and emptied of a crashed run's leftovers) once per test
// binary: that takes seconds, and every test leaves them clean anyway.
var pools struct {
	sync.Once
	images, vms string
}

func newClusterEnv(t testing.TB) *clusterEnv {
	t.Helper()
	c := testcluster.Connect(t)
	pools.Do(func() { pools.images, pools.vms = testcluster.Pools(t, "prov") })
	if pools.vms == "" {
		t.Fatal("pools were not made")
	}
	return &clusterEnv{c: c, imagesPool: pools.images, vmsPool: pools.vms}
}

// imageService is cowdisk's image service in-process over one store.
type imageService struct {
	srv *httptest.Server
	sc  *gophercloud.ServiceClient
	ids []string
}

// newImageService starts the service. Make it before the backend: its
// cleanup, which deletes the uploaded images, must run after the disks
// cloned from them are gone.
func newImageService(t testing.TB, st store.Store) *imageService {
	t.Helper()
	cat, err := catalog.OpenSQLite(context.Background(), ":memory:")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cat.Close() })
	a := api.New(api.Config{Catalog: cat, Store: st, Auth: auth.None{Project: "p1"}, ShowLocations: true})
	srv := httptest.NewServer(a)
	t.Cleanup(srv.Close)
	pc := &gophercloud.ProviderClient{HTTPClient: *srv.Client()}
	sc := &gophercloud.ServiceClient{ProviderClient: pc, Endpoint: srv.URL + "/", ResourceBase: srv.URL + "/v2/", Type: "image"}
	s := &imageService{srv: srv, sc: sc}
	t.Cleanup(func() {
		for _, id := range s.ids {
			if err := images.Delete(context.Background(), sc, id).ExtractErr(); err != nil {
				t.Errorf("delete image %s: %v", id, err)
			}
		}
	})
	return s
}

// rbdService is the image service over an RBD store in the images pool, so
// its images are cloneable.
func (e *clusterEnv) rbdService(t testing.TB) *imageService {
	t.Helper()
	st, err := rbdstore.New(e.c, rbdstore.Config{Pool: e.imagesPool, ChunkSize: 4 * mib})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { testcluster.AssertPoolClean(t, e.c, e.imagesPool) })
	return newImageService(t, st)
}

func fileService(t testing.TB) *imageService {
	t.Helper()
	fs, err := filestore.New(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	return newImageService(t, fs)
}

func (s *imageService) source() provisioner.ImageSource {
	return provisioner.GlanceSource{Client: s.sc}
}

// upload creates an image and uploads data the way any Glance client does.
func (s *imageService) upload(t testing.TB, format string, data []byte) string {
	t.Helper()
	return s.uploadFrom(t, format, bytes.NewReader(data))
}

// uploadFile streams a file as the image data.
func (s *imageService) uploadFile(t testing.TB, format, path string) string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	return s.uploadFrom(t, format, f)
}

func (s *imageService) uploadFrom(t testing.TB, format string, data io.Reader) string {
	t.Helper()
	ctx := context.Background()
	img, err := images.Create(ctx, s.sc, images.CreateOpts{Name: "t-" + format, DiskFormat: format, ContainerFormat: "bare"}).Extract()
	if err != nil {
		t.Fatal(err)
	}
	if err := imagedata.Upload(ctx, s.sc, img.ID, data).ExtractErr(); err != nil {
		t.Fatalf("upload %s: %v", format, err)
	}
	s.ids = append(s.ids, img.ID)
	return img.ID
}

func (e *clusterEnv) backend(t testing.TB, src provisioner.ImageSource, mod func(*provisioner.RBDConfig)) *provisioner.RBD {
	t.Helper()
	cfg := provisioner.RBDConfig{ImagesPool: e.imagesPool, VMsPool: e.vmsPool, Node: "t1", TempDir: t.TempDir()}
	if mod != nil {
		mod(&cfg)
	}
	var logTo io.Writer = io.Discard
	if os.Getenv("COWDISK_TEST_LOG") != "" {
		logTo = os.Stderr
	}
	b, err := provisioner.NewRBD(e.c, src, cfg, slog.New(slog.NewTextHandler(logTo, nil)))
	if err != nil {
		t.Fatal(err)
	}
	// Every test leaves the vms pool as it found it: disks, bases and all.
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		disks, _ := b.List(ctx, "")
		for _, d := range disks {
			_ = b.DeleteInstance(ctx, d.InstanceID)
		}
		_, _ = b.Prune(ctx)
		testcluster.AssertPoolClean(t, e.c, e.vmsPool)
	})
	return b
}

// readDisk reads a whole RBD image.
func (e *clusterEnv) readDisk(t testing.TB, pool, name string) []byte {
	t.Helper()
	r, err := e.c.OpenReader(context.Background(), pool, name, "")
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	buf := make([]byte, r.Size())
	if _, err := r.ReadAt(buf, 0); err != nil && err != io.EOF {
		t.Fatal(err)
	}
	return buf
}

func sha512Hex(b []byte) string {
	s := sha512.Sum512(b)
	return hex.EncodeToString(s[:])
}
