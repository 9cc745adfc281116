// Package imagesvctest runs cowdisk's image service in-process for the tests
// of its clients (the image client and the image CLI): a real HTTP server
// with an in-memory SQLite catalog and a file store in a temporary dir.
package imagesvctest

import (
	"context"
	"net/http/httptest"
	"testing"

	"github.com/cowdisk/cowdisk/internal/imagesvc/api"
	"github.com/cowdisk/cowdisk/internal/imagesvc/auth"
	"github.com/cowdisk/cowdisk/internal/imagesvc/catalog"
	"github.com/cowdisk/cowdisk/internal/imagesvc/store/filestore"
)

// Serve starts the service with authenticator a and returns its URL; it
// stops when the test ends. Locations are shown to admin and service callers.
func Serve(t testing.TB, a auth.Authenticator) string {
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
	srv := httptest.NewServer(api.New(api.Config{Catalog: cat, Store: fs, Auth: a, ShowLocations: true}))
	t.Cleanup(srv.Close)
	return srv.URL
}
