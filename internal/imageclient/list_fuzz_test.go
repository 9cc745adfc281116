package imageclient

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/google/uuid"
)

// FuzzImageList feeds arbitrary list pages to DecodeList. Whatever it
// accepts has only canonical UUID ids, and a lenient decoder reads the
// same ids in the same order and the same next link from it: no page
// means one thing here and another to encoding/json.
func FuzzImageList(f *testing.F) {
	for _, s := range []string{
		`{"images":[` + rec(idA, "a") + `,` + rec(idB, "b") + `],"next":"/v2/images?marker=` + idB + `","first":"/v2/images"}`,
		`{"images":[]}`,
		`{"images":[],"IMAGES":[` + rec(idA, "a") + `]}`,
		`{"images":[{"id":"` + idA + `","id":"../x"}]}`,
		`{"images":[{"id":"` + strings.ToUpper(idA) + `"}]}`,
		`{"images":null,"next":"http://evil.example/v2/images?marker=x"}`,
		`{"images":[{"ıd":"x","id":"` + idA + `"}]}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		imgs, next, err := DecodeList(data, 0)
		if err != nil {
			return
		}
		var lenient struct {
			Images []struct{ ID string } `json:"images"`
			Next   string                `json:"next"`
		}
		if err := json.Unmarshal(data, &lenient); err != nil {
			t.Fatalf("accepted a page encoding/json refuses: %v", err)
		}
		if lenient.Next != next || len(lenient.Images) != len(imgs) {
			t.Fatalf("next %q and %d images here, %q and %d to encoding/json", next, len(imgs), lenient.Next, len(lenient.Images))
		}
		for i, img := range imgs {
			if u, err := uuid.Parse(img.ID); err != nil || u.String() != img.ID {
				t.Fatalf("accepted id %q", img.ID)
			}
			if lenient.Images[i].ID != img.ID {
				t.Fatalf("image %d: id %q here, %q to encoding/json", i, img.ID, lenient.Images[i].ID)
			}
		}
	})
}
