package api

import (
	"cmp"
	"fmt"
	"maps"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/cowdisk/cowdisk/internal/errs"
	"github.com/cowdisk/cowdisk/internal/imagesvc/catalog"
)

// Bounds of a list query beyond the Limits.
const (
	maxQueryLen = 32 << 10 // bytes of the raw query string
	maxInValues = 256      // values of one in: list
)

// repeatable parameters may be given more than once; any other parameter
// given twice is refused (Glance would silently use one of them).
var repeatable = []string{"tag", "sort_key", "sort_dir"}

// queryParam applies one list parameter (value v) to the filter.
type queryParam func(f *catalog.Filter, key, v string) error

// listParams are the named parameters of GET /v2/images, as Glance 2.x
// reads them; any other name filters on a custom property.
var listParams = map[string]queryParam{
	"limit": nil, "marker": nil, "sort": nil, "sort_key": nil, "sort_dir": nil, "tag": nil, // parseListQuery
	"visibility": func(f *catalog.Filter, k, v string) error {
		f.Visibility = v
		return oneOf(k, v, append(slices.Clone(visibilities), "all"))
	},
	"member_status": func(f *catalog.Filter, k, v string) error {
		f.MemberStatus = v
		return oneOf(k, v, append(slices.Clone(memberStatuses), "all"))
	},
	"os_hidden": func(f *catalog.Filter, k, v string) error {
		b, err := parseBool(k, v)
		f.OSHidden = &b
		return err
	},
	"protected": func(f *catalog.Filter, k, v string) error {
		b, err := parseBool(k, v)
		f.Conds = append(f.Conds, catalog.Cond{Field: k, Op: "eq", Values: []any{b}})
		return err
	},
	"name": listOrEq, "id": listOrEq, "status": listOrEq, "disk_format": listOrEq, "container_format": listOrEq,
	"owner": eqString, "checksum": eqString, "os_hash_algo": eqString, "os_hash_value": eqString,
	"size": eqInt, "virtual_size": eqInt, "min_disk": eqInt, "min_ram": eqInt,
	"size_min": rangeInt, "size_max": rangeInt, "virtual_size_min": rangeInt, "virtual_size_max": rangeInt,
	"created_at": timeCond, "updated_at": timeCond,
	"changes-since": func(*catalog.Filter, string, string) error {
		return fmt.Errorf(`the "changes-since" filter is no longer available in v2; use updated_at=gte:TIME: %w`, errs.ErrInvalid)
	},
}

// parseListQuery turns the raw query string into a catalog filter (the
// caller's identity is added by the handler) and the parsed values.
func (s *Server) parseListQuery(raw string) (catalog.Filter, url.Values, error) {
	lim := s.cfg.Limits
	f := catalog.Filter{Limit: lim.DefaultPageSize, MaxBytes: lim.MaxPageBytes}
	if len(raw) > maxQueryLen {
		return f, nil, fmt.Errorf("query string is %d bytes; the limit is %d: %w", len(raw), maxQueryLen, errs.ErrInvalid)
	}
	q, err := url.ParseQuery(raw)
	if err != nil {
		return f, nil, fmt.Errorf("query string: %v: %w", err, errs.ErrInvalid)
	}
	// Glance lists hidden images only when asked; sorted keys give the
	// same bad query the same error.
	hidden := false
	f.OSHidden = &hidden
	for _, k := range slices.Sorted(maps.Keys(q)) {
		if err := s.applyParam(&f, k, q[k]); err != nil {
			return f, nil, err
		}
	}
	if f.Limit, err = parseLimit(q.Get("limit"), lim); err != nil {
		return f, nil, err
	}
	if f.Marker = q.Get("marker"); f.Marker != "" {
		if _, err := parseID(f.Marker); err != nil {
			return f, nil, fmt.Errorf("marker: %w", err)
		}
	}
	if len(q["tag"]) > lim.MaxTags {
		return f, nil, fmt.Errorf("%d tag filters; at most %d: %w", len(q["tag"]), lim.MaxTags, errs.ErrInvalid)
	}
	for _, t := range q["tag"] {
		f.Tags = append(f.Tags, strings.TrimSpace(t))
	}
	f.Sort, err = parseSort(q)
	return f, q, err
}

// applyParam checks one parameter's name and values and applies it.
func (s *Server) applyParam(f *catalog.Filter, k string, vs []string) error {
	if !utf8.ValidString(k) {
		return fmt.Errorf("query parameter %q: name is not valid UTF-8: %w", k, errs.ErrInvalid)
	}
	for _, v := range vs {
		if !utf8.ValidString(v) {
			return fmt.Errorf("query parameter %s: value %q is not valid UTF-8: %w", k, v, errs.ErrInvalid)
		}
	}
	if len(vs) > 1 && !slices.Contains(repeatable, k) {
		return fmt.Errorf("query parameter %s given %d times; it takes one value: %w", k, len(vs), errs.ErrInvalid)
	}
	apply, named := listParams[k]
	if named {
		if apply == nil {
			return nil
		}
		return apply(f, k, vs[0])
	}
	return s.propFilter(f, k, vs[0])
}

// propFilter: Glance treats every other parameter as a custom property
// that must equal the value.
func (s *Server) propFilter(f *catalog.Filter, k, v string) error {
	lim := s.cfg.Limits
	if len(f.Props) >= lim.MaxProperties {
		return fmt.Errorf("more than %d property filters: %w", lim.MaxProperties, errs.ErrInvalid)
	}
	if k == "" || len(k) > lim.MaxKeyLen || len(v) > lim.MaxValueLen {
		return fmt.Errorf("property filter %.40q: name of 1 to %d bytes, value of at most %d: %w",
			k, lim.MaxKeyLen, lim.MaxValueLen, errs.ErrInvalid)
	}
	if f.Props == nil {
		f.Props = map[string]string{}
	}
	f.Props[k] = v
	return nil
}

func parseLimit(v string, lim Limits) (int, error) {
	if v == "" {
		return lim.DefaultPageSize, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 0 {
		return 0, fmt.Errorf("limit %q must be a non-negative integer: %w", v, errs.ErrInvalid)
	}
	return min(n, lim.MaxPageSize), nil
}

func oneOf(k, v string, allowed []string) error {
	if !slices.Contains(allowed, v) {
		return fmt.Errorf("%s %q (want one of %s): %w", k, v, strings.Join(allowed, ", "), errs.ErrInvalid)
	}
	return nil
}

func parseBool(k, v string) (bool, error) {
	switch strings.ToLower(v) {
	case "true":
		return true, nil
	case "false":
		return false, nil
	}
	return false, fmt.Errorf("%s %q (want true or false): %w", k, v, errs.ErrInvalid)
}

func eqString(f *catalog.Filter, k, v string) error {
	f.Conds = append(f.Conds, catalog.Cond{Field: k, Op: "eq", Values: []any{v}})
	return nil
}

func eqInt(f *catalog.Filter, k, v string) error {
	return intCond(f, k, v, k, "eq")
}

// rangeInt is size_min, size_max and the virtual_size ones.
func rangeInt(f *catalog.Filter, k, v string) error {
	if field, ok := strings.CutSuffix(k, "_max"); ok {
		return intCond(f, k, v, field, "lte")
	}
	return intCond(f, k, v, strings.TrimSuffix(k, "_min"), "gte")
}

// intCond adds "field op n" for parameter k of integer value v.
func intCond(f *catalog.Filter, k, v, field, op string) error {
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil {
		return fmt.Errorf("%s %q must be an integer: %w", k, v, errs.ErrInvalid)
	}
	f.Conds = append(f.Conds, catalog.Cond{Field: field, Op: op, Values: []any{n}})
	return nil
}

// splitOp splits "op:value" as Glance does; no known operator prefix means
// the whole text is the value of "eq" (Glance refuses a name such as
// "a:b" there; taking it literally is what the caller meant).
func splitOp(v string, ops []string) (string, string) {
	if op, rest, ok := strings.Cut(v, ":"); ok && slices.Contains(ops, op) {
		return op, rest
	}
	return "eq", v
}

// listOrEq is name, id, status, disk_format and container_format: equal to
// a value, or "in:" a comma-separated list (items may be "quoted").
func listOrEq(f *catalog.Filter, k, v string) error {
	op, val := splitOp(v, []string{"eq", "in"})
	if op == "eq" {
		f.Conds = append(f.Conds, catalog.Cond{Field: k, Op: op, Values: []any{val}})
		return nil
	}
	items, err := splitInList(val)
	if err != nil {
		return fmt.Errorf("%s %q: %w", k, v, err)
	}
	if len(items) > maxInValues {
		return fmt.Errorf("%s: %d values in the in: list; at most %d: %w", k, len(items), maxInValues, errs.ErrInvalid)
	}
	vals := make([]any, len(items))
	for i, it := range items {
		vals[i] = it
	}
	f.Conds = append(f.Conds, catalog.Cond{Field: k, Op: op, Values: vals})
	return nil
}

// splitInList splits `a,"b,c",d` into a, b,c and d (the API working
// group's rule that Glance follows); \" and \\ escape inside quotes.
func splitInList(s string) ([]string, error) {
	var out []string
	for {
		var item string
		if strings.HasPrefix(s, `"`) {
			var b strings.Builder
			i := 1
			for ; i < len(s) && s[i] != '"'; i++ {
				if s[i] == '\\' && i+1 < len(s) {
					i++
				}
				b.WriteByte(s[i])
			}
			if i >= len(s) {
				return nil, fmt.Errorf("unbalanced quotes in the in: list: %w", errs.ErrInvalid)
			}
			item, s = b.String(), s[i+1:]
			if s != "" && s[0] != ',' {
				return nil, fmt.Errorf("a comma must follow a quoted value: %w", errs.ErrInvalid)
			}
		} else {
			item, s, _ = strings.Cut(s, ",")
			s = "," + s
			if strings.Contains(item, `"`) {
				return nil, fmt.Errorf("quote inside an unquoted value %q: %w", item, errs.ErrInvalid)
			}
		}
		out = append(out, item)
		if s == "" || s == "," {
			return out, nil
		}
		s = s[1:]
	}
}

// timeCond is created_at and updated_at: "[op:]ISO 8601 time", op one of
// eq, neq, gt, gte, lt, lte.
func timeCond(f *catalog.Filter, k, v string) error {
	op, val := "eq", v
	if _, err := parseISOTime(v); err != nil { // a bare time has colons too
		if before, after, ok := strings.Cut(v, ":"); ok {
			op, val = before, after
		}
	}
	if err := oneOf(k+" operator", op, []string{"eq", "neq", "gt", "gte", "lt", "lte"}); err != nil {
		return err
	}
	t, err := parseISOTime(val)
	if err != nil {
		return fmt.Errorf("%s %q: use [op:]ISO 8601 time such as gte:2026-01-02T15:04:05Z: %w", k, v, errs.ErrInvalid)
	}
	f.Conds = append(f.Conds, catalog.Cond{Field: k, Op: op, Values: []any{t}})
	return nil
}

// isoLayouts are the ISO 8601 forms accepted; no zone means UTC, as in Glance.
var isoLayouts = []string{time.RFC3339Nano, "2006-01-02T15:04:05.999999999", "2006-01-02T15:04", "2006-01-02"}

func parseISOTime(v string) (time.Time, error) {
	for _, l := range isoLayouts {
		if t, err := time.Parse(l, v); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, fmt.Errorf("time %q is not ISO 8601: %w", v, errs.ErrInvalid)
}

// parseSort reads Glance's two sort syntaxes: sort=k1:dir,k2:dir, or
// repeated sort_key with one sort_dir for all or one per key.
func parseSort(q url.Values) ([]catalog.Sort, error) {
	keys, dirs := q["sort_key"], q["sort_dir"]
	if v, ok := q["sort"]; ok {
		if len(keys)+len(dirs) > 0 {
			return nil, fmt.Errorf("sort cannot be combined with sort_key or sort_dir: %w", errs.ErrInvalid)
		}
		keys, dirs = nil, nil
		for _, part := range strings.Split(strings.TrimSpace(v[0]), ",") {
			k, d, _ := strings.Cut(part, ":")
			keys, dirs = append(keys, k), append(dirs, cmp.Or(strings.TrimSpace(d), "desc"))
		}
	}
	if len(dirs) > 1 && len(dirs) != len(keys) {
		return nil, fmt.Errorf("%d sort_dir values for %d sort_key values (give one for all, or one each): %w",
			len(dirs), len(keys), errs.ErrInvalid)
	}
	if len(keys) > len(catalog.SortKeys) {
		return nil, fmt.Errorf("%d sort keys; at most %d: %w", len(keys), len(catalog.SortKeys), errs.ErrInvalid)
	}
	if len(keys) == 0 {
		keys = []string{"created_at"}
	}
	out := make([]catalog.Sort, len(keys))
	for i, k := range keys {
		d := "desc"
		if len(dirs) == 1 {
			d = dirs[0]
		} else if len(dirs) > 1 {
			d = dirs[i]
		}
		k, d = strings.TrimSpace(k), strings.TrimSpace(d)
		if err := oneOf("sort key", k, catalog.SortKeys); err != nil {
			return nil, err
		}
		if err := oneOf("sort direction", d, []string{"asc", "desc"}); err != nil {
			return nil, err
		}
		out[i] = catalog.Sort{Key: k, Dir: d}
	}
	return out, nil
}
