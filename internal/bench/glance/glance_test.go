package glance

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
)

// fakeGlance keeps one image in memory, enough to check the calls' shape.
func fakeGlance(t *testing.T) (*httptest.Server, *[]byte) {
	var data []byte
	var created map[string]string
	mux := http.NewServeMux()
	mux.HandleFunc("POST /v2/images", func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("X-Auth-Token") != "tok" {
			http.Error(w, "no token", http.StatusUnauthorized)
			return
		}
		json.NewDecoder(r.Body).Decode(&created)
		w.WriteHeader(http.StatusCreated)
		json.NewEncoder(w).Encode(Image{ID: "id-1", Status: "queued", DiskFormat: created["disk_format"]})
	})
	mux.HandleFunc("PUT /v2/images/id-1/file", func(w http.ResponseWriter, r *http.Request) {
		if r.ContentLength < 0 {
			t.Error("upload without Content-Length")
		}
		data, _ = io.ReadAll(r.Body)
		w.WriteHeader(http.StatusNoContent)
	})
	mux.HandleFunc("GET /v2/images/id-1", func(w http.ResponseWriter, r *http.Request) {
		json.NewEncoder(w).Encode(Image{ID: "id-1", Status: "active", DiskFormat: created["disk_format"],
			Size: int64(len(data)), DirectURL: "rbd://f/images/id-1/snap"})
	})
	mux.HandleFunc("DELETE /v2/images/{id}", func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "gone", http.StatusNotFound)
	})
	return httptest.NewServer(mux), &data
}

func TestUploadGetDelete(t *testing.T) {
	srv, data := fakeGlance(t)
	defer srv.Close()
	c := &Client{Base: srv.URL + "/", Token: "tok"}
	path := filepath.Join(t.TempDir(), "img")
	os.WriteFile(path, []byte("hello"), 0o644)
	img, err := c.Upload(context.Background(), "bench", "qcow2", path)
	if err != nil {
		t.Fatal(err)
	}
	if img.Status != "active" || img.Size != 5 || img.DiskFormat != "qcow2" || string(*data) != "hello" {
		t.Fatalf("image %+v, data %q", img, *data)
	}
	if err := c.Delete(context.Background(), "id-1"); err != nil {
		t.Fatalf("delete of a missing image: %v", err)
	}
	if got := c.DataURL("id-1"); got != srv.URL+"/v2/images/id-1/file" {
		t.Errorf("DataURL = %s", got)
	}
}

func TestErrorsCarryStatus(t *testing.T) {
	srv, _ := fakeGlance(t)
	defer srv.Close()
	c := &Client{Base: srv.URL} // no token: 401
	_, err := c.Upload(context.Background(), "x", "raw", "/nonexistent")
	se, ok := err.(interface{ Unwrap() error })
	if err == nil || !ok {
		t.Fatalf("err = %v", err)
	}
	if st, ok := se.Unwrap().(*StatusError); !ok || st.Code != http.StatusUnauthorized {
		t.Fatalf("want a 401 StatusError, got %v", err)
	}
}
