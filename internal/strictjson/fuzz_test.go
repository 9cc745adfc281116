package strictjson

import (
	"encoding/json"
	"errors"
	"testing"

	"github.com/cowdisk/cowdisk/internal/errs"
)

// FuzzDecode: never panics; whatever it accepts encoding/json accepts too,
// and every refusal wraps errs.ErrInvalid.
func FuzzDecode(f *testing.F) {
	for _, s := range []string{`{"a":1}`, `{"a":1,"A":2}`, `[{"x":"\ud800"}]`, `{"a":{"b":[1,2,{"c":null}]}}`, "\"\xff\""} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var v any
		err := Unmarshal(data, &v, Options{})
		if err != nil {
			if !errors.Is(err, errs.ErrInvalid) {
				t.Fatalf("refusal %v does not wrap ErrInvalid", err)
			}
			return
		}
		var w any
		if err := json.Unmarshal(data, &w); err != nil {
			t.Fatalf("strict accepted what encoding/json refuses: %v", err)
		}
	})
}
