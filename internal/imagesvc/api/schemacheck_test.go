package api

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/cowdisk/cowdisk/internal/httpobs"
)

// compiledSchemas compiles the served schemas once (as JSON, exactly as a
// client receives them) with a validator this project did not write.
var compiledSchemas = sync.OnceValues(func() (map[string]*jsonschema.Schema, error) {
	out := map[string]*jsonschema.Schema{}
	c := jsonschema.NewCompiler()
	c.DefaultDraft(jsonschema.Draft4) // Glance validates with draft 4
	for kind, build := range schemas {
		b, err := json.Marshal(build())
		if err != nil {
			return nil, err
		}
		doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(b))
		if err != nil {
			return nil, err
		}
		if err := c.AddResource(kind+".json", doc); err != nil {
			return nil, fmt.Errorf("schema %s: %w", kind, err)
		}
	}
	for kind := range schemas {
		s, err := c.Compile(kind + ".json")
		if err != nil {
			return nil, fmt.Errorf("schema %s: %w", kind, err)
		}
		out[kind] = s
	}
	return out, nil
})

// validateAs checks one JSON document against the served schema kind.
func validateAs(kind string, body []byte) error {
	all, err := compiledSchemas()
	if err != nil {
		return err
	}
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("not JSON: %w", err)
	}
	return all[kind].Validate(inst)
}

// schemaRoutes tells which schema describes a successful JSON answer of a
// route (the same patterns as the API's mux).
var schemaRoutes = func() *http.ServeMux {
	m := http.NewServeMux()
	for pattern, kind := range map[string]string{
		"POST /v2/images": "image", "GET /v2/images/{id}": "image", "PATCH /v2/images/{id}": "image",
		"GET /v2/images":                       "images",
		"POST /v2/images/{id}/members":         "member",
		"GET /v2/images/{id}/members/{member}": "member",
		"PUT /v2/images/{id}/members/{member}": "member",
		"GET /v2/images/{id}/members":          "members",
	} {
		m.Handle(pattern, kindHandler(kind))
	}
	return m
}()

type kindHandler string

func (kindHandler) ServeHTTP(http.ResponseWriter, *http.Request) {}

// validated serves h and checks every answer of every test: image and member
// JSON against the served schemas, and every error's media type and body
// against what the request's Accept header asked for (errorMedia).
func validated(t *testing.T, h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec := &teeWriter{StatusWriter: httpobs.StatusWriter{ResponseWriter: w}}
		h.ServeHTTP(rec, r)
		if err := checkAnswer(r, rec.Code, rec.Header().Get("Content-Type"), rec.buf.Bytes()); err != nil {
			t.Errorf("%s %s: %d: %v\n%s", r.Method, r.URL.Path, rec.Code, err, rec.buf.Bytes())
		}
	})
}

func checkAnswer(r *http.Request, code int, ctype string, body []byte) error {
	if code >= 400 {
		return checkError(r, ctype, body)
	}
	h, pattern := schemaRoutes.Handler(r)
	kind, ok := h.(kindHandler)
	if pattern == "" || !ok || code >= 300 {
		return nil
	}
	return validateAs(string(kind), body)
}

// checkError checks an error body's shape for the Accept header sent.
func checkError(r *http.Request, ctype string, body []byte) error {
	if r.Method == http.MethodHead {
		return nil
	}
	want := errorMedia(r.Header.Values("Accept"))
	if !strings.HasPrefix(ctype, want) {
		return fmt.Errorf("error Content-Type %q for Accept %q, want %s", ctype, r.Header.Values("Accept"), want)
	}
	if want == mediaJSON {
		var m map[string]any
		if err := json.Unmarshal(body, &m); err != nil {
			return err
		}
		if msg, _ := m["message"].(string); msg == "" || m["code"] == nil || m["title"] == nil {
			return fmt.Errorf("JSON error without message, code, title")
		}
	}
	return nil
}

// teeWriter keeps a copy of JSON and error bodies (never image data).
type teeWriter struct {
	httpobs.StatusWriter
	buf bytes.Buffer
}

func (w *teeWriter) Write(p []byte) (int, error) {
	n, err := w.StatusWriter.Write(p) // sets the code on a first Write
	if w.Code >= 400 || strings.HasPrefix(w.Header().Get("Content-Type"), mediaJSON) {
		w.buf.Write(p[:n])
	}
	return n, err
}
