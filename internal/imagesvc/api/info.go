package api

import (
	"net/http"

	"github.com/cowdisk/cowdisk/internal/imagesvc/auth"
)

// versions is the version document clients use for discovery; Glance
// answers / with 300 Multiple Choices and /versions with 200.
func (s *Server) versions(w http.ResponseWriter, r *http.Request) {
	base := "http://" + r.Host + "/v2/"
	var vs []map[string]any
	for _, v := range []string{"2.9", "2.7", "2.6", "2.5", "2.4", "2.3", "2.2", "2.1", "2.0"} {
		st := "SUPPORTED"
		if v == "2.9" {
			st = "CURRENT"
		}
		vs = append(vs, map[string]any{"id": "v" + v, "status": st,
			"links": []map[string]string{{"rel": "self", "href": base}}})
	}
	code := http.StatusOK
	if r.URL.Path == "/" {
		code = http.StatusMultipleChoices
	}
	writeJSON(w, code, map[string]any{"versions": vs})
}

func (s *Server) stores(w http.ResponseWriter, r *http.Request, _ auth.Principal) {
	writeJSON(w, http.StatusOK, map[string]any{"stores": []map[string]any{
		{"id": s.cfg.Store.ID(), "description": "cowdisk " + s.cfg.Store.ID() + " store", "default": true},
	}})
}
