package strictjson

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/cowdisk/cowdisk/internal/errs"
)

type req struct {
	InstanceID string            `json:"instance_id"`
	Size       uint64            `json:"size_bytes"`
	Props      map[string]string `json:"props"`
	List       []map[string]int  `json:"list"`
}

func TestDecodeRefuses(t *testing.T) {
	cases := []struct {
		name, doc, want string
		o               Options
	}{
		{"duplicate", `{"instance_id":"a","instance_id":"b"}`, `duplicate member "instance_id"`, Options{}},
		{"case", `{"instance_id":"a","INSTANCE_ID":"b"}`, `"instance_id" and "INSTANCE_ID" differ only in case`, Options{}},
		{"long s", `{"props":{"disk_format":"qcow2","diſk_format":"raw"}}`, `differ only in case`, Options{}},
		{"kelvin", `{"props":{"k":"1","K":"2"}}`, `differ only in case`, Options{}},
		{"deep duplicate", `{"list":[{"a":1},{"b":1,"b":2}]}`, `duplicate member "b" in $."list"[1]`, Options{}},
		{"invalid utf8", "{\"instance_id\":\"a\xffb\"}", "not valid UTF-8 (at byte 17)", Options{}},
		{"lone high surrogate", `{"instance_id":"a\ud800"}`, `lone surrogate escape \uD800`, Options{}},
		{"lone low surrogate", `{"instance_id":"\udc00x"}`, `lone surrogate`, Options{}},
		{"reversed pair", `{"instance_id":"\udc00\ud800"}`, `lone surrogate`, Options{}},
		{"trailing object", `{"instance_id":"a"}{"instance_id":"b"}`, "trailing data", Options{}},
		{"trailing garbage", `{"instance_id":"a"} x`, "trailing data", Options{}},
		{"unknown", `{"instance_id":"a","extra":1}`, `unknown field "extra"`, Options{DisallowUnknownFields: true}},
		{"type", `{"size_bytes":-1}`, `member "size_bytes"`, Options{}},
		{"overflow", `{"size_bytes":18446744073709551616}`, `member "size_bytes"`, Options{}},
		{"syntax", `{"instance_id":}`, "syntax error", Options{}},
		{"empty", ``, "syntax error", Options{}},
		{"too big", `{"instance_id":"` + strings.Repeat("a", 100) + `"}`, "exceeds the limit of 64", Options{MaxBytes: 64}},
		{"deep", strings.Repeat("[", 300) + strings.Repeat("]", 300), "nested deeper", Options{}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var v req
			err := Decode(strings.NewReader(c.doc), &v, c.o)
			if !errors.Is(err, errs.ErrInvalid) {
				t.Fatalf("err = %v, want errs.ErrInvalid", err)
			}
			if !strings.Contains(err.Error(), c.want) {
				t.Fatalf("err = %q, want it to contain %q", err, c.want)
			}
		})
	}
}

func TestDecodeAccepts(t *testing.T) {
	cases := []struct{ name, doc, id string }{
		{"plain", `{"instance_id":"a","size_bytes":5}`, "a"},
		{"same key in two objects", `{"instance_id":"a","list":[{"a":1},{"a":2}],"props":{"instance_id":"x"}}`, "a"},
		{"surrogate pair", `{"instance_id":"\ud83d\ude00"}`, "😀"},
		{"escaped backslash then u", `{"instance_id":"\\ud800"}`, `\ud800`},
		{"trailing space", "{\"instance_id\":\"a\"}\n\t ", "a"},
		{"non-ascii distinct keys", `{"instance_id":"é","props":{"é":"1","è":"2"}}`, "é"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var v req
			if err := Decode(strings.NewReader(c.doc), &v, Options{DisallowUnknownFields: true}); err != nil {
				t.Fatal(err)
			}
			if v.InstanceID != c.id {
				t.Fatalf("instance_id = %q, want %q", v.InstanceID, c.id)
			}
		})
	}
}

// An HTTP body bound stays recognisable so the edge can answer 413.
func TestDecodeKeepsMaxBytesError(t *testing.T) {
	w := httptest.NewRecorder()
	r := httptest.NewRequest("POST", "/", strings.NewReader(`{"instance_id":"`+strings.Repeat("a", 100)+`"}`))
	var v req
	err := Decode(http.MaxBytesReader(w, r.Body, 32), &v, Options{})
	var mbe *http.MaxBytesError
	if !errors.As(err, &mbe) {
		t.Fatalf("err = %v, want an *http.MaxBytesError inside", err)
	}
}

func TestFoldMatchesEqualFold(t *testing.T) {
	pairs := [][2]string{{"diſk", "DISK"}, {"K", "k"}, {"Straße", "STRAßE"}, {"ǅ", "ǆ"}}
	for _, p := range pairs {
		if Fold(p[0]) != Fold(p[1]) {
			t.Errorf("Fold(%q)=%q != Fold(%q)=%q", p[0], Fold(p[0]), p[1], Fold(p[1]))
		}
	}
	if Fold("a") == Fold("b") {
		t.Error("distinct names fold equal")
	}
}

func TestLongMemberNameIsCut(t *testing.T) {
	k := strings.Repeat("é", 100)
	err := Validate([]byte(`{"` + k + `":1,"` + k + `":2}`))
	if err == nil || len(err.Error()) > 200 {
		t.Fatalf("err = %v; want a bounded message", err)
	}
}
