//go:build faults

package faults

import (
	"encoding/json"
	"net/http"
	"slices"
	"testing"
)

// Tokens of the tenant tests: two projects, a reader, the provisioner's
// service identity and an admin.
const (
	tokA, tokB, tokReader, tokSvc, tokAdmin = "tok-a", "tok-b", "tok-a-reader", "tok-svc", "tok-admin"
)

var tenantTokens = []tokenEntry{
	{tokA, "proj-a", []string{"member"}},
	{tokB, "proj-b", []string{"member"}},
	{tokReader, "proj-a", []string{"reader"}},
	{tokSvc, "services", []string{"service"}},
	{tokAdmin, "admin", []string{"admin"}},
}

// Tenants end to end, through the real image service with token auth and
// a node agent that fetches images as project A (the way Nova uses the
// user's token): B's private image does not exist for A (404) in the list,
// on GET, download and as a disk; shared (no members: owner only),
// community (readable, listed only on request) and public behave as in
// Glance; nobody can add or change a location, and only the service role
// sees locations and direct_url.
func TestTenants(t *testing.T) {
	f := newFixture(t, "f-ten", options{tokens: tenantTokens, agentToken: tokA})
	data := rawImage(4<<20, 8)
	ids := map[string]string{}
	for _, vis := range []string{"private", "shared", "community"} {
		ids[vis] = f.image(tokB, "raw", data, map[string]any{"visibility": vis})
	}
	ids["public"] = f.image(tokAdmin, "raw", data, map[string]any{"visibility": "public"})
	own := f.image(tokA, "raw", data, map[string]any{"visibility": "private"})

	for _, tc := range []struct {
		vis          string
		visible      bool // GET, download and disk by project A
		listed       bool // in A's default list
		listedByFilt bool // in A's list with ?visibility=<vis>
	}{
		{"private", false, false, false},
		{"shared", false, false, false},
		{"community", true, false, true},
		{"public", true, true, true},
	} {
		t.Run(tc.vis, func(t *testing.T) {
			id := ids[tc.vis]
			want := http.StatusNotFound
			if tc.visible {
				want = http.StatusOK
			}
			if code, _ := f.imageRecord(tokA, id); code != want {
				t.Errorf("GET as A: %d, want %d", code, want)
			}
			if r := call(t, "GET", f.images.url()+"/v2/images/"+id+"/file", tokA, nil); r.code != want {
				t.Errorf("download as A: %d, want %d", r.code, want)
			}
			if got := slices.Contains(listIDs(t, f, tokA, ""), id); got != tc.listed {
				t.Errorf("in A's list: %v, want %v", got, tc.listed)
			}
			if got := slices.Contains(listIDs(t, f, tokA, "?visibility="+tc.vis), id); got != tc.listedByFilt {
				t.Errorf("in A's list with visibility=%s: %v, want %v", tc.vis, got, tc.listedByFilt)
			}
			// Changing or deleting someone else's image: 404 when A cannot
			// see it, 403 when it can.
			wantW := http.StatusNotFound
			if tc.visible {
				wantW = http.StatusForbidden
			}
			if r := patch(t, f, tokA, id, `[{"op":"replace","path":"/name","value":"mine"}]`); r.code != wantW {
				t.Errorf("PATCH as A: %s, want %d", r, wantW)
			}
			if r := call(t, "DELETE", f.images.url()+"/v2/images/"+id, tokA, nil); r.code != wantW {
				t.Errorf("DELETE as A: %s, want %d", r, wantW)
			}
			inst := instanceID()
			r := f.createDisk(inst, id)
			wantD := http.StatusNotFound
			if tc.visible {
				wantD = http.StatusCreated
			}
			if r.code != wantD {
				t.Errorf("disk as A: %s, want %d", r, wantD)
			}
			if r.code == http.StatusCreated {
				assertContent(t, f.c, f.vmsPool, diskName(inst), data)
				f.deleteInstance(inst)
			}
			// B, the owner, always sees its image.
			if code, _ := f.imageRecord(tokB, id); code != http.StatusOK && tc.vis != "public" {
				t.Errorf("GET as the owner B: %d", code)
			}
		})
	}
	t.Run("own private", func(t *testing.T) {
		inst := instanceID()
		d := f.mustDisk(inst, own)
		// A's token sees no locations, so its agent must download.
		if d.Method != "base-clone" {
			t.Errorf("disk as A made by %q, want base-clone (A sees no locations)", d.Method)
		}
		f.deleteInstance(inst)
	})

	t.Run("locations only for the service role", func(t *testing.T) {
		for _, tok := range []string{tokA, tokReader, tokB, tokSvc, tokAdmin} {
			id := own
			if tok == tokB {
				id = ids["public"]
			}
			_, img := f.imageRecord(tok, id)
			_, hasLoc := img["locations"]
			_, hasURL := img["direct_url"]
			want := tok == tokSvc || tok == tokAdmin
			if hasLoc != want || hasURL != want {
				t.Errorf("token %s: locations %v direct_url %v, want both %v", tok, hasLoc, hasURL, want)
			}
		}
	})

	t.Run("nobody sets a location", func(t *testing.T) {
		_, before := f.imageRecord(tokSvc, own)
		evil := "rbd://" + f.c.FSID() + "/" + f.vmsPool + "/victim_disk/snap"
		patches := []string{
			`[{"op":"add","path":"/locations/-","value":{"url":"` + evil + `","metadata":{}}}]`,
			`[{"op":"replace","path":"/locations","value":[{"url":"` + evil + `","metadata":{}}]}]`,
			`[{"op":"add","path":"/locations","value":[{"url":"` + evil + `","metadata":{}}]}]`,
			`[{"op":"remove","path":"/locations"}]`,
			`[{"op":"replace","path":"/direct_url","value":"` + evil + `"}]`,
			`[{"op":"add","path":"/direct_url","value":"` + evil + `"}]`,
		}
		for _, tok := range []string{tokA, tokSvc, tokAdmin} {
			for _, p := range patches {
				if r := patch(t, f, tok, own, p); r.code < 400 || r.code >= 500 {
					t.Errorf("token %s PATCH %s: %s, want a 4xx refusal", tok, p, r)
				}
			}
			for _, field := range []string{"locations", "direct_url"} {
				var v any = evil
				if field == "locations" {
					v = []map[string]any{{"url": evil, "metadata": map[string]any{}}}
				}
				r := call(t, "POST", f.images.url()+"/v2/images", tok,
					map[string]any{"name": "x", "disk_format": "raw", "container_format": "bare", field: v})
				if r.code < 400 || r.code >= 500 {
					t.Errorf("token %s create with %s: %s, want a 4xx refusal", tok, field, r)
				}
			}
		}
		_, after := f.imageRecord(tokSvc, own)
		if b, a := jsonOf(before["locations"]), jsonOf(after["locations"]); b != a || before["direct_url"] != after["direct_url"] {
			t.Errorf("locations changed: %s -> %s", b, a)
		}
	})
	f.prune()
	f.assertVMsEmpty()
}

func patch(t *testing.T, f *fixture, token, id, body string) reply {
	t.Helper()
	return call(t, "PATCH", f.images.url()+"/v2/images/"+id, token, stringReader(body),
		"Content-Type", "application/openstack-images-v2.1-json-patch")
}

func listIDs(t *testing.T, f *fixture, token, query string) []string {
	t.Helper()
	r := call(t, "GET", f.images.url()+"/v2/images"+query, token, nil)
	if r.code != http.StatusOK {
		t.Fatalf("list %s: %s", query, r)
	}
	var page struct{ Images []struct{ ID string } }
	if err := json.Unmarshal(r.body, &page); err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, i := range page.Images {
		ids = append(ids, i.ID)
	}
	return ids
}

func jsonOf(v any) string { b, _ := json.Marshal(v); return string(b) }
