package catalog

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"strings"
	"time"
)

const columns = `id, name, status, disk_format, container_format, size, virtual_size,
	checksum, os_hash_algo, os_hash_value, owner, visibility, protected, min_disk, min_ram,
	tags, properties, locations, created_at, updated_at, os_hidden,
	prev_status, lease_owner, lease_until, version`

// fields are img's column values in the order of columns, version last.
func fields(img Image) ([]any, error) {
	tags, props, locs, err := encodeJSON(img)
	if err != nil {
		return nil, err
	}
	return []any{img.ID, img.Name, img.Status, img.DiskFormat, img.ContainerFormat, img.Size, img.VirtualSize,
		img.Checksum, img.OSHashAlgo, img.OSHashValue, img.Owner, img.Visibility, img.Protected,
		img.MinDisk, img.MinRAM, tags, props, locs,
		img.CreatedAt.UnixNano(), img.UpdatedAt.UnixNano(), img.OSHidden,
		img.Lease.PrevStatus, img.Lease.Owner, leaseNanos(img.Lease.Until), img.Version}, nil
}

// insert adds img unless its id exists; it reports how many rows it added.
func insert(ctx context.Context, q querier, img Image) (int64, error) {
	args, err := fields(img)
	if err != nil {
		return 0, err
	}
	marks := strings.TrimSuffix(strings.Repeat("?,", len(args)), ",")
	res, err := q.ExecContext(ctx, `INSERT INTO images (`+columns+`) VALUES (`+marks+`)
		ON CONFLICT (id) DO NOTHING`, args...)
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

// rewrite replaces the record whose version is still read (compare and
// set); it reports how many rows it changed: 0 if another writer won.
func rewrite(ctx context.Context, q querier, img Image, read int64) (int64, error) {
	args, err := fields(img)
	if err != nil {
		return 0, err
	}
	cols := strings.Split(columns, ",")
	set := make([]string, 0, len(cols))
	for _, c := range cols[1:] { // not the id
		set = append(set, strings.TrimSpace(c)+" = ?")
	}
	res, err := q.ExecContext(ctx, "UPDATE images SET "+strings.Join(set, ", ")+
		" WHERE id = ? AND version = ?", append(args[1:], img.ID, read)...)
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

func encodeJSON(img Image) (tags, props, locs string, err error) {
	if img.Tags == nil {
		img.Tags = []string{}
	}
	if img.Properties == nil {
		img.Properties = map[string]string{}
	}
	if img.Locations == nil {
		img.Locations = []Location{}
	}
	for _, v := range []struct {
		dst *string
		src any
	}{{&tags, img.Tags}, {&props, img.Properties}, {&locs, img.Locations}} {
		b, err := json.Marshal(v.src)
		if err != nil {
			return "", "", "", fmt.Errorf("encode image %s: %w", img.ID, err)
		}
		*v.dst = string(b)
	}
	return tags, props, locs, nil
}

type scanner interface{ Scan(dst ...any) error }

func scan(row scanner) (Image, error) {
	var (
		img               Image
		tags, props, locs string
		created, updated  int64
		leaseUntil        int64
		name, df, cf      sql.NullString
		sum, algo, hash   sql.NullString
		size, vsize       sql.NullInt64
	)
	err := row.Scan(&img.ID, &name, &img.Status, &df, &cf, &size, &vsize,
		&sum, &algo, &hash, &img.Owner, &img.Visibility, &img.Protected, &img.MinDisk, &img.MinRAM,
		&tags, &props, &locs, &created, &updated, &img.OSHidden,
		&img.Lease.PrevStatus, &img.Lease.Owner, &leaseUntil, &img.Version)
	if err != nil {
		return Image{}, err
	}
	img.Name, img.DiskFormat, img.ContainerFormat = str(name), str(df), str(cf)
	img.Checksum, img.OSHashAlgo, img.OSHashValue = str(sum), str(algo), str(hash)
	img.Size, img.VirtualSize = i64(size), i64(vsize)
	img.CreatedAt, img.UpdatedAt = time.Unix(0, created).UTC(), time.Unix(0, updated).UTC()
	if leaseUntil != 0 {
		img.Lease.Until = time.Unix(0, leaseUntil).UTC()
	}
	if err := json.Unmarshal([]byte(tags), &img.Tags); err != nil {
		return Image{}, fmt.Errorf("decode tags of image %s: %w", img.ID, err)
	}
	if err := json.Unmarshal([]byte(props), &img.Properties); err != nil {
		return Image{}, fmt.Errorf("decode properties of image %s: %w", img.ID, err)
	}
	if err := json.Unmarshal([]byte(locs), &img.Locations); err != nil {
		return Image{}, fmt.Errorf("decode locations of image %s: %w", img.ID, err)
	}
	return img, nil
}

func str(v sql.NullString) *string {
	if !v.Valid {
		return nil
	}
	return &v.String
}

func i64(v sql.NullInt64) *int64 {
	if !v.Valid {
		return nil
	}
	return &v.Int64
}

func leaseNanos(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixNano()
}
