package provisioner_test

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http/httptest"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/cowdisk/cowdisk/internal/ceph"
	"github.com/cowdisk/cowdisk/internal/imageclient"
	"github.com/cowdisk/cowdisk/internal/imagesvc/api"
	"github.com/cowdisk/cowdisk/internal/imagesvc/auth"
	"github.com/cowdisk/cowdisk/internal/imagesvc/catalog"
	"github.com/cowdisk/cowdisk/internal/imagesvc/store"
	"github.com/cowdisk/cowdisk/internal/imagesvc/store/filestore"
	"github.com/cowdisk/cowdisk/internal/imagesvc/store/rbdstore"
	"github.com/cowdisk/cowdisk/internal/provisioner"
	"github.com/cowdisk/cowdisk/internal/testcluster"
)

func TestMain(m *testing.M) { testcluster.MainNoLeaks(m) }

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

// imageService is cowdisk's image service in-process over one store, and
// the image client the node uses to reach it.
type imageService struct {
	srv    *httptest.Server
	client imageclient.Client
	ids    []string
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
	client, err := imageclient.New(srv.URL, "", imageclient.Options{HTTPClient: srv.Client()})
	if err != nil {
		t.Fatal(err)
	}
	s := &imageService{srv: srv, client: client}
	t.Cleanup(func() {
		for _, id := range s.ids {
			if err := client.Delete(context.Background(), id); err != nil {
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
	return provisioner.ClientSource{Client: s.client}
}

// upload creates an image and uploads data.
func (s *imageService) upload(t testing.TB, format string, data []byte) string {
	t.Helper()
	return s.uploadFrom(t, format, bytes.NewReader(data), int64(len(data)))
}

// uploadFile streams a file as the image data.
func (s *imageService) uploadFile(t testing.TB, format, path string) string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	return s.uploadFrom(t, format, f, -1)
}

func (s *imageService) uploadFrom(t testing.TB, format string, data io.Reader, size int64) string {
	t.Helper()
	ctx := context.Background()
	img, err := s.client.Create(ctx, imageclient.CreateOptions{Name: "t-" + format, DiskFormat: format, ContainerFormat: "bare"})
	if err != nil {
		t.Fatal(err)
	}
	s.ids = append(s.ids, img.ID)
	if err := s.client.Upload(ctx, img.ID, data, size); err != nil {
		t.Fatalf("upload %s: %v", format, err)
	}
	return img.ID
}

func (e *clusterEnv) backend(t testing.TB, src provisioner.ImageSource, mod func(*provisioner.RBDConfig)) *provisioner.RBD {
	t.Helper()
	return e.backendOn(t, provisioner.Ceph(e.c), src, mod)
}

// backendOn is backend over c, a view of the dev cluster (e.g. one that
// counts calls).
func (e *clusterEnv) backendOn(t testing.TB, c provisioner.Cluster, src provisioner.ImageSource, mod func(*provisioner.RBDConfig)) *provisioner.RBD {
	t.Helper()
	cfg := provisioner.RBDConfig{ImagesPool: e.imagesPool, VMsPool: e.vmsPool, Node: "t1", TempDir: t.TempDir()}
	if mod != nil {
		mod(&cfg)
	}
	var logTo io.Writer = io.Discard
	if os.Getenv("COWDISK_TEST_LOG") != "" {
		logTo = os.Stderr
	}
	b, err := provisioner.NewRBD(c, src, cfg, slog.New(slog.NewTextHandler(logTo, nil)))
	if err != nil {
		t.Fatal(err)
	}
	// Every test leaves the vms pool as it found it: disks, bases and all.
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		// A fetch whose caller hung up ends (and cleans up) behind the
		// answer; wait for it rather than race it.
		for b.FetchesInFlight() > 0 && ctx.Err() == nil {
			time.Sleep(10 * time.Millisecond)
		}
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
