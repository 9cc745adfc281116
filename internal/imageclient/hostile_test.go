package imageclient

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"

	"github.com/cowdisk/cowdisk/internal/errs"
)

const (
	idA = "aaaaaaaa-0000-4000-8000-00000000000a"
	idB = "bbbbbbbb-0000-4000-8000-00000000000b"
)

// rec is a well-formed record about id.
func rec(id, name string) string {
	return `{"id":"` + id + `","name":"` + name + `","status":"queued","disk_format":"raw","container_format":"bare","visibility":"private"}`
}

// answer is a hostile image service's handler that answers every request
// with status and body.
func answer(status int, body string) http.HandlerFunc {
	return func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		fmt.Fprint(w, body)
	}
}

// pages answers a list request by its marker ("" for the first page).
func pages(byMarker map[string]string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		body, ok := byMarker[r.URL.Query().Get("marker")]
		if !ok {
			http.NotFound(w, r)
			return
		}
		answer(http.StatusOK, body)(w, r)
	}
}

// endless pages forever, one new image per page, ever-changing markers.
func endless(w http.ResponseWriter, r *http.Request) {
	n, _ := strconv.Atoi(r.URL.Query().Get("marker"))
	id := fmt.Sprintf("cccccccc-0000-4000-8000-%012d", n)
	answer(http.StatusOK, `{"images":[`+rec(id, "x")+`],"next":"/v2/images?marker=`+strconv.Itoa(n+1)+`"}`)(w, r)
}

func list(c Client) error { _, err := c.List(context.Background(), ListOptions{}); return err }

func create(c Client) error {
	_, err := c.Create(context.Background(), CreateOptions{Name: "a", DiskFormat: "raw", ContainerFormat: "bare"})
	return err
}

func createID(c Client) error {
	_, err := c.Create(context.Background(), CreateOptions{ID: idA, Name: "a"})
	return err
}

func update(c Client) error {
	name := "a"
	_, err := c.Update(context.Background(), idA, Update{Name: &name})
	return err
}

func get(c Client) error { _, err := c.Get(context.Background(), idA); return err }

// Every answer of a hostile image service that a lenient decoder would
// take, one way or another, is refused (errs.ErrRefused) with the reason;
// honest answers of the same shape pass.
func TestHostileAnswers(t *testing.T) {
	big := strings.Repeat(rec(idB, "x")+",", 80)
	for _, c := range []struct {
		name  string
		serve http.HandlerFunc
		call  func(Client) error
		want  string // "" when the answer is honest
	}{
		{"list honest", pages(map[string]string{"": `{"images":[` + rec(idA, "a") + `],"next":"/v2/images?marker=` + idA + `","first":"/v2/images","schema":"/v2/schemas/images"}`,
			idA: `{"images":[` + rec(idB, "b") + `]}`}), list, ""},
		{"list duplicate member", answer(200, `{"images":[],"images":[`+rec(idA, "a")+`]}`), list, `duplicate member "images"`},
		{"list case twin in a record", answer(200, `{"images":[{"id":"`+idA+`","disk_format":"raw","DISK_FORMAT":"qcow2"}]}`), list, "differ only in case"},
		{"list long s twin", answer(200, `{"images":[{"id":"`+idA+`","size":1,"ſize":"x"}]}`), list, "differ only in case"},
		{"list invalid utf-8", answer(200, "{\"images\":[{\"id\":\""+idA+"\",\"name\":\"\xff\"}]}"), list, "UTF-8"},
		{"list traversal id", answer(200, `{"images":[`+rec("../../outside/secret", "a")+`]}`), list, "not a canonical lower-case UUID"},
		{"list upper-case id", answer(200, `{"images":[`+rec(strings.ToUpper(idA), "a")+`]}`), list, "not a canonical lower-case UUID"},
		{"list negative size", answer(200, `{"images":[{"id":"`+idA+`","size":-1}]}`), list, "negative size"},
		{"list traversal hash", answer(200, `{"images":[{"id":"`+idA+`","os_hash_value":"../../outside/vm1"}]}`), list, "os_hash_value"},
		{"list id twice", answer(200, `{"images":[`+rec(idA, "a")+`,`+rec(idA, "b")+`]}`), list, "listed twice"},
		{"list no images", answer(200, `{"next":"/v2/images?marker=x"}`), list, `"images" is not an array`},
		{"list images not an array", answer(200, `{"images":{"id":"`+idA+`"}}`), list, `"images" is not an array`},
		{"list record too large", answer(200, `{"images":[{"id":"`+idA+`","name":"`+strings.Repeat("n", 5000)+`"}]}`), list, "record larger than 4096 bytes"},
		{"list page too large", answer(200, `{"images":[`+big+rec(idA, "a")+`]}`), list, "answer larger than 8192 bytes"},
		{"list endless pages", endless, list, "answer larger than"},
		{"list next to another host", answer(200, `{"images":[`+rec(idA, "a")+`],"next":"http://evil.example/v2/images?marker=x"}`), list, "another host"},
		{"list next elsewhere", answer(200, `{"images":[`+rec(idA, "a")+`],"next":"/v2/images/`+idA+`/file?marker=x"}`), list, "not this image list"},
		{"list next loops", pages(map[string]string{"": `{"images":[` + rec(idA, "a") + `],"next":"/v2/images?marker=m"}`,
			"m": `{"images":[` + rec(idB, "b") + `],"next":"/v2/images?marker=m"}`}), list, "already read"},
		{"list empty page links on", answer(200, `{"images":[],"next":"/v2/images?marker=x"}`), list, "empty page"},
		{"create honest", answer(201, rec(idA, "a")), create, ""},
		{"create other name", answer(201, rec(idA, "b")), create, `name "a" was sent, the service answered "b"`},
		{"create other disk_format", answer(201, strings.Replace(rec(idA, "a"), `"raw"`, `"qcow2"`, 1)), create, "disk_format"},
		{"create other id", answer(201, rec(idB, "a")), createID, `id "` + idA + `" was sent`},
		{"create traversal id", answer(201, rec("x.tmp-hostC-1", "a")), create, "not a canonical lower-case UUID"},
		{"create duplicate", answer(201, `{"id":"`+idA+`","name":"a","name":"b"}`), create, `duplicate member "name"`},
		{"create too large", answer(201, `{"id":"`+idA+`","name":"`+strings.Repeat("n", 5000)+`"}`), create, "answer larger than 4096 bytes"},
		{"create trailing", answer(201, rec(idA, "a")+rec(idB, "a")), create, "trailing"},
		{"update honest", answer(200, rec(idA, "a")), update, ""},
		{"update other id", answer(200, rec(idB, "a")), update, `id "` + idA + `" was sent, the service answered "` + idB + `"`},
		{"update name not set", answer(200, rec(idA, "old")), update, `name "a" was sent`},
		{"update case twin", answer(200, `{"id":"`+idA+`","name":"a","Name":"b"}`), update, "differ only in case"},
		{"get other id", answer(200, rec(idB, "a")), get, "the service answered \"" + idB + "\""},
	} {
		t.Run(c.name, func(t *testing.T) {
			srv := httptest.NewServer(c.serve)
			defer srv.Close()
			cl := must(New(srv.URL, "t", Options{MaxRecord: 4096, MaxList: 8192}))
			err := c.call(cl)
			if c.want == "" {
				if err != nil {
					t.Fatalf("honest answer refused: %v", err)
				}
				return
			}
			if !errors.Is(err, errs.ErrRefused) || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("err = %v, want ErrRefused mentioning %q", err, c.want)
			}
		})
	}
}

// An error answer of any length is read only up to maxErrorBody: the
// service's writes fail once the client has read that much and hung up.
func TestHostileErrorBodyBounded(t *testing.T) {
	const total = 256 << 20
	wrote := make(chan int, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(http.StatusNotFound)
		chunk, n := []byte(strings.Repeat("x", 1<<20)), 0
		for n < total {
			m, err := w.Write(chunk)
			n += m
			if err != nil {
				break
			}
		}
		wrote <- n
	}))
	defer srv.Close()
	_, err := must(New(srv.URL, "t", Options{})).Get(context.Background(), idA)
	if !errors.Is(err, errs.ErrNotFound) || len(err.Error()) > 400 {
		t.Fatalf("err = %.500v, want a short ErrNotFound", err)
	}
	if n := <-wrote; n >= total {
		t.Fatalf("the client read all %d bytes of an error answer", n)
	}
}
