package catalog

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"time"
)

const columns = `id, name, status, disk_format, container_format, size, virtual_size,
	checksum, os_hash_algo, os_hash_value, owner, visibility, protected, min_disk, min_ram,
	tags, properties, locations, created_at, updated_at, os_hidden`

// insert writes img whole; INSERT OR REPLACE makes it serve Update too.
func insert(ctx context.Context, q querier, img Image) error {
	tags, props, locs, err := encodeJSON(img)
	if err != nil {
		return err
	}
	_, err = q.ExecContext(ctx, `INSERT OR REPLACE INTO images (`+columns+`)
		VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)`,
		img.ID, img.Name, img.Status, img.DiskFormat, img.ContainerFormat, img.Size, img.VirtualSize,
		img.Checksum, img.OSHashAlgo, img.OSHashValue, img.Owner, img.Visibility, img.Protected,
		img.MinDisk, img.MinRAM, tags, props, locs,
		img.CreatedAt.UnixNano(), img.UpdatedAt.UnixNano(), img.OSHidden)
	return err
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
		name, df, cf      sql.NullString
		sum, algo, hash   sql.NullString
		size, vsize       sql.NullInt64
	)
	err := row.Scan(&img.ID, &name, &img.Status, &df, &cf, &size, &vsize,
		&sum, &algo, &hash, &img.Owner, &img.Visibility, &img.Protected, &img.MinDisk, &img.MinRAM,
		&tags, &props, &locs, &created, &updated, &img.OSHidden)
	if err != nil {
		return Image{}, err
	}
	img.Name, img.DiskFormat, img.ContainerFormat = str(name), str(df), str(cf)
	img.Checksum, img.OSHashAlgo, img.OSHashValue = str(sum), str(algo), str(hash)
	img.Size, img.VirtualSize = i64(size), i64(vsize)
	img.CreatedAt, img.UpdatedAt = time.Unix(0, created).UTC(), time.Unix(0, updated).UTC()
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
