//go:build interop

package nova

import (
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"
)

// TestSchemasEqualGlance: cowdisk's /v2/schemas/{image,images,member,
// members} are structurally equal to a running Glance's (glanceclient,
// and so Nova, build their image model from them).
func TestSchemasEqualGlance(t *testing.T) {
	p := setup(t)
	for _, name := range []string{"image", "images", "member", "members"} {
		t.Run(name, func(t *testing.T) {
			var want, got any
			if _, err := p.glanceImages.do(t.Context(), "GET", "/v2/schemas/"+name, "", nil, &want); err != nil {
				t.Fatal(err)
			}
			if _, err := p.cowdiskImages.do(t.Context(), "GET", "/v2/schemas/"+name, "", nil, &got); err != nil {
				t.Fatal(err)
			}
			if diff := jsonDiff("", want, got); len(diff) > 0 {
				t.Fatalf("schema %s differs from Glance's (%d differences):\n%s", name, len(diff),
					strings.Join(diff, "\n"))
			}
		})
	}
}

// jsonDiff lists the differences between decoded JSON documents a (Glance)
// and b (cowdisk), one line per path: "- path: a" for what only Glance
// has, "+ path: b" for what only cowdisk has, "~ path: a -> b" for values
// that differ.
func jsonDiff(path string, a, b any) []string {
	if reflect.DeepEqual(a, b) {
		return nil
	}
	am, aok := a.(map[string]any)
	bm, bok := b.(map[string]any)
	if aok && bok {
		return mapDiff(path, am, bm)
	}
	al, aok := a.([]any)
	bl, bok := b.([]any)
	if aok && bok && len(al) == len(bl) {
		var out []string
		for i := range al {
			out = append(out, jsonDiff(fmt.Sprintf("%s[%d]", path, i), al[i], bl[i])...)
		}
		return out
	}
	return []string{fmt.Sprintf("~ %s: %s -> %s", path, short(a), short(b))}
}

func mapDiff(path string, a, b map[string]any) []string {
	keys := make([]string, 0, len(a)+len(b))
	for k := range a {
		keys = append(keys, k)
	}
	for k := range b {
		if _, ok := a[k]; !ok {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	var out []string
	for _, k := range keys {
		av, aok := a[k]
		bv, bok := b[k]
		switch {
		case !bok:
			out = append(out, fmt.Sprintf("- %s.%s: %s", path, k, short(av)))
		case !aok:
			out = append(out, fmt.Sprintf("+ %s.%s: %s", path, k, short(bv)))
		default:
			out = append(out, jsonDiff(path+"."+k, av, bv)...)
		}
	}
	return out
}

// short renders a value on one line, cut at 120 characters.
func short(v any) string {
	s := fmt.Sprintf("%v", v)
	if len(s) > 120 {
		s = s[:117] + "..."
	}
	return s
}
