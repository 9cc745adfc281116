package api

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack/image/v2/images"

	"github.com/cowdisk/cowdisk/internal/imagesvc/auth"
	"github.com/cowdisk/cowdisk/internal/imagesvc/catalog"
	"github.com/cowdisk/cowdisk/internal/imagesvc/store"
	"github.com/cowdisk/cowdisk/internal/imagesvc/store/filestore"
)

// Tokens of the test deployment: project p1 has a member and a reader,
// p2 a member; plus a service and an admin.
const (
	tokAlice  = "alice-p1-member"
	tokReader = "rita-p1-reader"
	tokBob    = "bob-p2-member"
	tokSvc    = "svc-service"
	tokAdmin  = "ada-admin"
)

type env struct {
	srv   *httptest.Server
	api   *Server
	cat   catalog.Catalog
	files *filestore.Store
	// chunkedPuts counts uploads that arrived without a Content-Length.
	chunkedPuts atomic.Int32
}

// newEnv runs the API in-process over a real HTTP listener, with a SQLite
// catalog and a file store in a temp dir. wrap may replace the store.
func newEnv(t *testing.T, wrap func(store.Store) store.Store) *env {
	t.Helper()
	cat, err := catalog.OpenSQLite(context.Background(), ":memory:")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cat.Close() })
	fs, err := filestore.New(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	tok, err := auth.NewTokens([]auth.TokenEntry{
		{Token: tokAlice, Project: "p1", Roles: []string{auth.Member}},
		{Token: tokReader, Project: "p1", Roles: []string{auth.Reader}},
		{Token: tokBob, Project: "p2", Roles: []string{auth.Member}},
		{Token: tokSvc, Project: "services", Roles: []string{auth.Service}},
		{Token: tokAdmin, Project: "admin", Roles: []string{auth.Admin}},
	})
	if err != nil {
		t.Fatal(err)
	}
	var st store.Store = fs
	if wrap != nil {
		st = wrap(fs)
	}
	a := New(Config{Catalog: cat, Store: st, Auth: tok, ShowLocations: true, MaxImageSize: 64 << 20})
	e := &env{api: a, cat: cat, files: fs}
	checked := validated(t, a) // every answer of every test is checked against the schemas
	e.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPut && r.ContentLength < 0 {
			e.chunkedPuts.Add(1)
		}
		checked.ServeHTTP(w, r)
	}))
	t.Cleanup(e.srv.Close)
	return e
}

// client is a gophercloud image client for token, built the way any
// OpenStack tool builds one once it has an endpoint and a token.
func (e *env) client(token string) *gophercloud.ServiceClient {
	pc := &gophercloud.ProviderClient{HTTPClient: *e.srv.Client()}
	pc.SetToken(token)
	return &gophercloud.ServiceClient{ProviderClient: pc, Endpoint: e.srv.URL + "/",
		ResourceBase: e.srv.URL + "/v2/", Type: "image"}
}

// do sends a raw request and returns status and body.
func (e *env) do(t *testing.T, method, path, token, ctype string, body io.Reader, hdr ...string) (int, string, http.Header) {
	t.Helper()
	resp := e.send(t, method, path, token, ctype, body, hdr...)
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), resp.Header
}

// send is do with the answer's body left unread (header pairs in hdr).
func (e *env) send(t *testing.T, method, path, token, ctype string, body io.Reader, hdr ...string) *http.Response {
	t.Helper()
	req, err := http.NewRequest(method, e.srv.URL+path, body)
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("X-Auth-Token", token)
	}
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := e.srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	return resp
}

// mkImage creates an image with gophercloud and returns its id.
func (e *env) mkImage(t *testing.T, token string, opts images.CreateOpts) string {
	t.Helper()
	if opts.Name == "" {
		opts.Name = "img"
	}
	if opts.DiskFormat == "" {
		opts.DiskFormat, opts.ContainerFormat = "raw", "bare"
	}
	img, err := images.Create(context.Background(), e.client(token), opts).Extract()
	if err != nil {
		t.Fatalf("create: %v", err)
	}
	return img.ID
}

// storedFiles lists the file store's directory, temp files included.
func (e *env) storedFiles(t *testing.T) []string {
	t.Helper()
	return dirEntries(t, e.files.Dir())
}

// onlyReader hides every interface but io.Reader (bytes.Reader's Len would
// let net/http send a Content-Length), so the upload is chunked.
type onlyReader struct{ io.Reader }

func stream(b []byte) io.Reader { return onlyReader{bytes.NewReader(b)} }

func vis(v images.ImageVisibility) *images.ImageVisibility { return &v }

func contains(s, sub string) bool { return strings.Contains(s, sub) }
