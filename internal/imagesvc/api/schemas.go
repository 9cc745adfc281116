package api

import (
	"maps"
	"net/http"
)

// The schemas are the ones Glance 25 (Zed) serves at /v2/schemas/{kind}
// with its stock /etc/glance/schema-image.json. Clients build their models
// from them: glanceclient moves every field the image schema does not list
// under "properties" (so Nova would see no disk_format and no locations),
// and the glance CLI builds its options from it. They are built from Go
// values here so that the tests can validate every answer against exactly
// what is served.

// uuidPattern is Glance's pattern for image ids.
const uuidPattern = "^([0-9a-fA-F]){8}-([0-9a-fA-F]){4}-([0-9a-fA-F]){4}-([0-9a-fA-F]){4}-([0-9a-fA-F]){12}$"

// Glance's enums (glance/api/v2/images.py and its config defaults). The
// schema lists every value Glance knows even where cowdisk refuses some
// (ami, ari, aki, ploop): the API answers those with a clear 400.
var (
	schemaStatuses = []any{"queued", "saving", "active", "killed", "deleted", "uploading", "importing",
		"pending_delete", "deactivated"}
	schemaDiskFormats = []any{nil, "ami", "ari", "aki", "vhd", "vhdx", "vmdk", "raw", "qcow2", "vdi", "iso",
		"ploop"}
	schemaContainerFormats = []any{nil, "ami", "ari", "aki", "bare", "ovf", "ova", "docker", "compressed"}
	schemaVisibilities     = []any{"community", "public", "private", "shared"}
	schemaMemberStatuses   = []any{"pending", "accepted", "rejected"}
	nullString             = []string{"null", "string"}
	nullInteger            = []string{"null", "integer"}
)

type object = map[string]any

// prop is one property: its JSON type, a description ("" for none) and
// further keyword/value pairs.
func prop(typ any, desc string, kv ...any) object {
	p := object{"type": typ}
	if desc != "" {
		p["description"] = desc
	}
	for i := 0; i+1 < len(kv); i += 2 {
		p[kv[i].(string)] = kv[i+1]
	}
	return p
}

// roProp is prop with "readOnly": true, Glance's mark for fields only
// the service sets.
func roProp(typ any, desc string, kv ...any) object {
	return prop(typ, desc, append(kv, "readOnly", true)...)
}

func links(rels ...string) []object {
	out := make([]object, 0, len(rels)/2)
	for i := 0; i+1 < len(rels); i += 2 {
		out = append(out, object{"rel": rels[i], "href": rels[i+1]})
	}
	return out
}

// imageSchema is GET /v2/schemas/image.
func imageSchema() object {
	props := baseImageProperties()
	maps.Copy(props, customImageProperties())
	return object{
		"name":                 "image",
		"properties":           props,
		"additionalProperties": object{"type": "string"},
		"links":                links("self", "{self}", "enclosure", "{file}", "describedby", "{schema}"),
	}
}

// imagesSchema is GET /v2/schemas/images: a page of images.
func imagesSchema() object {
	return object{
		"name": "images",
		"properties": object{
			"images": object{"type": "array", "items": imageSchema()},
			"schema": prop("string", ""), "first": prop("string", ""), "next": prop("string", ""),
		},
		"links": links("first", "{first}", "next", "{next}", "describedby", "{schema}"),
	}
}

// memberSchema is GET /v2/schemas/member.
func memberSchema() object {
	return object{
		"name": "member",
		"properties": object{
			"image_id":   prop("string", "An identifier for the image", "pattern", uuidPattern),
			"member_id":  prop("string", "An identifier for the image member (tenantId)"),
			"created_at": prop("string", "Date and time of image member creation"),
			"updated_at": prop("string", "Date and time of last modification of image member"),
			"status":     prop("string", "The status of this image member", "enum", schemaMemberStatuses),
			"schema":     roProp("string", ""),
		},
	}
}

// membersSchema is GET /v2/schemas/members. Glance serves it without
// first/next (members are not paged).
func membersSchema() object {
	return object{
		"name": "members",
		"properties": object{
			"members": object{"type": "array", "items": memberSchema()},
			"schema":  prop("string", ""),
		},
		"links": links("describedby", "{schema}"),
	}
}

// schemas are the documents served, by kind.
var schemas = map[string]func() object{
	"image": imageSchema, "images": imagesSchema, "member": memberSchema, "members": membersSchema,
}

// schema serves /v2/schemas/{kind}. Like Glance it needs no token.
func (s *Server) schema(w http.ResponseWriter, r *http.Request) {
	build, ok := schemas[r.PathValue("kind")]
	if !ok {
		s.notFound(w, r)
		return
	}
	writeJSON(w, http.StatusOK, build())
}

// notFound answers unknown schemas, metadefs included (cowdisk has no
// metadata definitions), with Glance's 404 body.
func (s *Server) notFound(w http.ResponseWriter, r *http.Request) {
	writeGlanceError(w, r, http.StatusNotFound, "The resource could not be found.")
}
