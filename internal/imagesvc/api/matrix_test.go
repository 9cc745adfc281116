package api

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/gophercloud/gophercloud/v2/openstack/image/v2/imagedata"
	"github.com/gophercloud/gophercloud/v2/openstack/image/v2/images"
)

// TestAuthVisibilityMatrix checks every caller against images of project p1
// of every visibility: what it may read, change and delete, and what it
// lists. Another project's private image is 404, never 403.
func TestAuthVisibilityMatrix(t *testing.T) {
	type want struct {
		get, download, patch, delete int
		listed                       bool
	}
	ok, nc, no, nf := http.StatusOK, http.StatusNoContent, http.StatusForbidden, http.StatusNotFound
	full := want{ok, ok, ok, nc, true}
	readOnly := want{ok, ok, no, no, true}
	hidden := want{nf, nf, nf, nf, false}
	for _, tc := range []struct {
		token string
		want  map[string]want // by visibility
	}{
		{tokAlice, map[string]want{"private": full, "shared": full, "community": full, "public": full}},
		{tokReader, map[string]want{"private": readOnly, "shared": readOnly, "community": readOnly, "public": readOnly}},
		{tokBob, map[string]want{"private": hidden, "shared": hidden,
			"community": {ok, ok, no, no, false}, // seen by id, not in the default list (as Glance)
			"public":    readOnly}},
		{tokSvc, map[string]want{"private": readOnly, "shared": readOnly, "community": readOnly, "public": readOnly}},
		{tokAdmin, map[string]want{"private": full, "shared": full, "community": full, "public": full}},
	} {
		t.Run(tc.token, func(t *testing.T) {
			e := newEnv(t, nil)
			ids := map[string]string{}
			for _, v := range []string{"private", "shared", "community", "public"} {
				// Only admins publicize; the admin creates p1's public image.
				tok, opts := tokAlice, images.CreateOpts{Visibility: vis(images.ImageVisibility(v))}
				if v == "public" {
					tok, opts.Properties = tokAdmin, map[string]string{"owner": "p1"}
				}
				ids[v] = e.mkImage(t, tok, opts)
				err := imagedata.Upload(context.Background(), e.client(tokAlice), ids[v],
					bytes.NewReader([]byte("0123456789"))).ExtractErr()
				if err != nil {
					t.Fatal(err)
				}
			}
			_, listBody, _ := e.do(t, "GET", "/v2/images", tc.token, "", nil)
			for v, w := range tc.want {
				id := ids[v]
				got := want{listed: strings.Contains(listBody, id)}
				got.get, _, _ = e.do(t, "GET", "/v2/images/"+id, tc.token, "", nil)
				got.download, _, _ = e.do(t, "GET", "/v2/images/"+id+"/file", tc.token, "", nil)
				got.patch, _, _ = e.do(t, "PATCH", "/v2/images/"+id, tc.token, patchMediaType,
					strings.NewReader(`[{"op":"replace","path":"/name","value":"x"}]`))
				got.delete, _, _ = e.do(t, "DELETE", "/v2/images/"+id, tc.token, "", nil)
				if got != w {
					t.Errorf("%s image: got %+v, want %+v", v, got, w)
				}
			}
		})
	}
}

func TestAuthRequired(t *testing.T) {
	e := newEnv(t, nil)
	for _, tok := range []string{"", "forged"} {
		code, body, _ := e.do(t, "GET", "/v2/images", tok, "", nil, "Accept", "application/json")
		var m map[string]any
		if code != http.StatusUnauthorized || json.Unmarshal([]byte(body), &m) != nil || m["message"] == nil {
			t.Errorf("token %q: %d %s", tok, code, body)
		}
	}
	if code, _, _ := e.do(t, "POST", "/v2/images", tokReader, "application/json",
		strings.NewReader(`{"name":"x"}`)); code != http.StatusForbidden {
		t.Errorf("reader creates: %d", code)
	}
	if code, _, _ := e.do(t, "POST", "/v2/images", tokAlice, "application/json",
		strings.NewReader(`{"name":"x","visibility":"public"}`)); code != http.StatusForbidden {
		t.Errorf("member publicizes: %d", code)
	}
}
