package catalog

import (
	"context"
	"fmt"
	"slices"
	"strings"

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

// List returns one page of images visible under f.
func (s *SQLite) List(ctx context.Context, f Filter) ([]Image, error) {
	expr, err := sortExpr(f.SortKey)
	if err != nil {
		return nil, err
	}
	dir := strings.ToLower(f.SortDir)
	if dir == "" {
		dir = "desc"
	}
	if dir != "asc" && dir != "desc" {
		return nil, fmt.Errorf("sort dir %q (want asc or desc): %w", f.SortDir, errs.ErrInvalid)
	}
	where, args := filterSQL(f)
	if f.Marker != "" {
		var mv any
		err := s.db.QueryRowContext(ctx, "SELECT "+expr+" FROM images WHERE id = ? AND status != 'deleted'",
			f.Marker).Scan(&mv)
		if err != nil {
			return nil, fmt.Errorf("marker %s: %w", f.Marker, errs.ErrNotFound)
		}
		op := "<"
		if dir == "asc" {
			op = ">"
		}
		where = append(where, fmt.Sprintf("(%s %s ? OR (%s = ? AND id %s ?))", expr, op, expr, op))
		args = append(args, mv, mv, f.Marker)
	}
	limit := f.Limit
	if limit <= 0 {
		limit = 25
	}
	q := fmt.Sprintf("SELECT %s FROM images WHERE %s ORDER BY %s %s, id %s LIMIT %d",
		columns, strings.Join(where, " AND "), expr, dir, dir, limit)
	rows, err := s.db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("list images: %w", err)
	}
	defer rows.Close()
	var out []Image
	for rows.Next() {
		img, err := scan(rows)
		if err != nil {
			return nil, fmt.Errorf("list images: %w", err)
		}
		out = append(out, img)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list images: %w", err)
	}
	return out, nil
}

// filterSQL builds the WHERE terms for f; every value is a bind parameter.
func filterSQL(f Filter) ([]string, []any) {
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
		args = append(args, f.Project, f.Project, memberStatus(f))
	case f.Visibility == "all":
		where = append(where, "(owner = ? OR visibility IN ('public', 'community') OR "+memberOf+")")
		args = append(args, f.Project, f.Project, memberStatus(f))
	case f.Visibility == Shared:
		where = append(where, "(owner = ? OR "+memberOf+")", "visibility = 'shared'")
		args = append(args, f.Project, f.Project, memberStatus(f))
	case slices.Contains([]string{Public, Community}, f.Visibility):
		where, args = append(where, "visibility = ?"), append(args, f.Visibility)
	default: // private, or nonsense: only the caller's own
		where = append(where, "visibility = ? AND owner = ?")
		args = append(args, f.Visibility, f.Project)
	}
	for _, c := range []struct{ col, val string }{
		{"name", f.Name}, {"status", f.Status}, {"owner", f.Owner}, {"disk_format", f.DiskFormat},
	} {
		if c.val != "" {
			where, args = append(where, c.col+" = ?"), append(args, c.val)
		}
	}
	for _, t := range f.Tags {
		where = append(where, "EXISTS (SELECT 1 FROM json_each(images.tags) WHERE json_each.value = ?)")
		args = append(args, t)
	}
	return where, args
}

// memberOf matches shared images the project (first argument) is a member
// of with a status matching the second argument (GLOB: "*" is any).
const memberOf = `(visibility = 'shared' AND EXISTS (SELECT 1 FROM members m
	WHERE m.image_id = images.id AND m.project = ? AND m.status GLOB ?))`

func memberStatus(f Filter) string {
	switch f.MemberStatus {
	case "":
		return MemberAccepted
	case "all":
		return "*"
	}
	return f.MemberStatus
}
