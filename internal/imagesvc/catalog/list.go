package catalog

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/cowdisk/cowdisk/internal/errs"
)

// sortExpr maps a sort key to an SQL expression without NULLs, so keyset
// pagination (value, id) < (marker value, marker id) is well defined.
func sortExpr(key string) (string, error) {
	switch key {
	case "", "created_at":
		return "created_at", nil
	case "updated_at", "id", "status", "owner", "visibility", "min_disk", "min_ram":
		return key, nil
	case "name", "disk_format", "container_format":
		return "COALESCE(" + key + ", '')", nil
	case "size":
		return "COALESCE(size, -1)", nil
	}
	return "", fmt.Errorf("sort key %q (want one of %s): %w", key, strings.Join(SortKeys, ", "), errs.ErrInvalid)
}

// sortTerm is one checked ORDER BY term: a fixed expression and direction.
type sortTerm struct{ expr, dir string }

// sortTerms checks f's sort keys; the id always ends the order so that
// every position in it is unique and keyset paging never skips a record.
func sortTerms(f Filter) ([]sortTerm, error) {
	keys := f.Sort
	if len(keys) == 0 {
		keys = []Sort{{f.SortKey, f.SortDir}}
	}
	var out []sortTerm
	for _, k := range keys {
		expr, err := sortExpr(k.Key)
		if err != nil {
			return nil, err
		}
		dir := strings.ToLower(k.Dir)
		if dir == "" {
			dir = "desc"
		}
		if dir != "asc" && dir != "desc" {
			return nil, fmt.Errorf("sort dir %q (want asc or desc): %w", k.Dir, errs.ErrInvalid)
		}
		out = append(out, sortTerm{expr, dir})
	}
	return append(out, sortTerm{"id", out[len(out)-1].dir}), nil
}

// List returns one page of images visible under f. It first selects only
// the ids of the page, so SQLite's sorter never holds whole records, then
// reads the records one by one and stops at f.MaxBytes.
func (s *SQLCatalog) List(ctx context.Context, f Filter) ([]Image, error) {
	page, err := s.list(ctx, f)
	return page, s.unavailable(err)
}

func (s *SQLCatalog) list(ctx context.Context, f Filter) ([]Image, error) {
	terms, err := sortTerms(f)
	if err != nil {
		return nil, err
	}
	where, args, err := filterSQL(f, s.d)
	if err != nil {
		return nil, err
	}
	if f.Marker != "" {
		w, a, err := s.afterMarker(ctx, f.Marker, terms)
		if err != nil {
			return nil, err
		}
		where, args = append(where, w), append(args, a...)
	}
	limit := f.Limit
	if limit <= 0 {
		limit = 25
	}
	order := make([]string, len(terms))
	for i, t := range terms {
		order[i] = t.expr + " " + t.dir
	}
	q := fmt.Sprintf("SELECT id FROM images WHERE %s ORDER BY %s LIMIT %d",
		strings.Join(where, " AND "), strings.Join(order, ", "), limit)
	ids, err := s.ids(ctx, q, args)
	if err != nil {
		return nil, err
	}
	return s.records(ctx, ids, f.MaxBytes)
}

func (s *SQLCatalog) ids(ctx context.Context, q string, args []any) ([]string, error) {
	rows, err := s.db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("list images: %w", err)
	}
	defer rows.Close()
	var ids []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, fmt.Errorf("list images: %w", err)
		}
		ids = append(ids, id)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list images: %w", err)
	}
	return ids, nil
}

// records reads the listed records; one deleted since the id query is
// left out.
func (s *SQLCatalog) records(ctx context.Context, ids []string, maxBytes int64) ([]Image, error) {
	var out []Image
	var used int64
	for _, id := range ids {
		if maxBytes > 0 && used >= maxBytes {
			break
		}
		img, err := get(ctx, s.db, id, "")
		if err != nil {
			return nil, fmt.Errorf("list images: %w", err)
		}
		if img.Status == StatusDeleted {
			continue
		}
		used += img.Footprint()
		out = append(out, img)
	}
	return out, nil
}

// afterMarker is the keyset condition "after the marker in this order":
// (k1 > m1) OR (k1 = m1 AND k2 > m2) OR ..., each > flipped for desc.
func (s *SQLCatalog) afterMarker(ctx context.Context, marker string, terms []sortTerm) (string, []any, error) {
	exprs := make([]string, len(terms))
	for i, t := range terms {
		exprs[i] = t.expr
	}
	mv := make([]any, len(terms))
	ptrs := make([]any, len(terms))
	for i := range mv {
		ptrs[i] = &mv[i]
	}
	err := s.db.QueryRowContext(ctx, "SELECT "+strings.Join(exprs, ", ")+
		" FROM images WHERE id = ? AND status != 'deleted'", marker).Scan(ptrs...)
	if err != nil {
		return "", nil, fmt.Errorf("marker %s: %w", marker, errs.ErrNotFound)
	}
	var ors []string
	var args []any
	for i, t := range terms {
		var ands []string
		for j := range i {
			ands = append(ands, terms[j].expr+" = ?")
			args = append(args, mv[j])
		}
		op := "<"
		if t.dir == "asc" {
			op = ">"
		}
		ands = append(ands, t.expr+" "+op+" ?")
		args = append(args, mv[i])
		ors = append(ors, "("+strings.Join(ands, " AND ")+")")
	}
	return "(" + strings.Join(ors, " OR ") + ")", args, nil
}

// filterSQL builds the WHERE terms for f; every value is a bind parameter
// and every column name comes from a fixed list.
func filterSQL(f Filter, d dialect) ([]string, []any, error) {
	where, args := visibilitySQL(f)
	conds := slices.Clone(f.Conds)
	for _, c := range []struct{ col, val string }{
		{"name", f.Name}, {"status", f.Status}, {"owner", f.Owner}, {"disk_format", f.DiskFormat},
	} {
		if c.val != "" {
			conds = append(conds, Cond{Field: c.col, Op: "eq", Values: []any{c.val}})
		}
	}
	for _, c := range conds {
		w, a, err := condSQL(c)
		if err != nil {
			return nil, nil, err
		}
		where, args = append(where, w), append(args, a...)
	}
	if f.OSHidden != nil {
		where, args = append(where, "os_hidden = ?"), append(args, *f.OSHidden)
	}
	for _, t := range f.Tags {
		where = append(where, d.hasTag)
		args = append(args, t)
	}
	for k, v := range f.Props {
		where = append(where, d.hasProp)
		args = append(args, k, v)
	}
	return where, args, nil
}

var condOpSQL = map[string]string{"eq": "=", "neq": "!=", "gt": ">", "gte": ">=", "lt": "<", "lte": "<="}

// condSQL renders one Cond. Timestamps are stored in nanoseconds and shown
// in seconds, so they are compared in seconds.
func condSQL(c Cond) (string, []any, error) {
	if !slices.Contains(CondFields, c.Field) {
		return "", nil, fmt.Errorf("filter on %q (want one of %s): %w", c.Field, strings.Join(CondFields, ", "), errs.ErrInvalid)
	}
	col := c.Field
	args := slices.Clone(c.Values)
	if col == "created_at" || col == "updated_at" {
		col = "(" + col + " / 1000000000)"
		for i, v := range args {
			t, ok := v.(time.Time)
			if !ok {
				return "", nil, fmt.Errorf("filter on %s needs a time, got %T: %w", c.Field, v, errs.ErrInvalid)
			}
			args[i] = t.Unix()
		}
	}
	if c.Op == "in" {
		marks := strings.TrimSuffix(strings.Repeat("?,", len(args)), ",")
		return col + " IN (" + marks + ")", args, nil
	}
	op, ok := condOpSQL[c.Op]
	if !ok || len(args) != 1 {
		return "", nil, fmt.Errorf("filter %s: operator %q with %d values (want one of %s; in takes a list, the others one value): %w",
			c.Field, c.Op, len(args), strings.Join(CondOps, ", "), errs.ErrInvalid)
	}
	return col + " " + op + " ?", args, nil
}

// visibilitySQL is the part of the filter that decides what the caller may
// list at all.
func visibilitySQL(f Filter) ([]string, []any) {
	where := []string{"status != 'deleted'"}
	var args []any
	switch {
	case f.Admin && (f.Visibility == "" || f.Visibility == "all"):
	case f.Admin:
		where, args = append(where, "visibility = ?"), append(args, f.Visibility)
	case f.Visibility == "":
		// Glance's default list: own images, public ones and shared ones
		// the caller is a member of; not community ones.
		where = append(where, "(owner = ? OR visibility = 'public' OR "+memberOf+")")
		args = append(args, f.Project, f.Project, memberStatus(f), memberStatus(f))
	case f.Visibility == "all":
		where = append(where, "(owner = ? OR visibility IN ('public', 'community') OR "+memberOf+")")
		args = append(args, f.Project, f.Project, memberStatus(f), memberStatus(f))
	case f.Visibility == Shared:
		where = append(where, "(owner = ? OR "+memberOf+")", "visibility = 'shared'")
		args = append(args, f.Project, f.Project, memberStatus(f), memberStatus(f))
	case slices.Contains([]string{Public, Community}, f.Visibility):
		where, args = append(where, "visibility = ?"), append(args, f.Visibility)
	default: // private, or nonsense: only the caller's own
		where = append(where, "visibility = ? AND owner = ?")
		args = append(args, f.Visibility, f.Project)
	}
	return where, args
}

// memberOf matches shared images the project (first argument) is a member
// of with the status of the second and third arguments ("*" is any).
const memberOf = `(visibility = 'shared' AND EXISTS (SELECT 1 FROM members m
	WHERE m.image_id = images.id AND m.project = ? AND (CAST(? AS TEXT) = '*' OR m.status = ?)))`

func memberStatus(f Filter) string {
	switch f.MemberStatus {
	case "":
		return MemberAccepted
	case "all":
		return "*"
	}
	return f.MemberStatus
}
