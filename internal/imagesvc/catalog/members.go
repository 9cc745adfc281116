package catalog

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/cowdisk/cowdisk/internal/errs"
)

// AddMember implements Members.
func (s *SQLCatalog) AddMember(ctx context.Context, imageID, project string) (Member, error) {
	m, err := s.addMember(ctx, imageID, project)
	return m, s.unavailable(err)
}

func (s *SQLCatalog) addMember(ctx context.Context, imageID, project string) (Member, error) {
	t := time.Now().UTC()
	m := Member{ImageID: imageID, Project: project, Status: MemberPending, CreatedAt: t, UpdatedAt: t}
	res, err := s.db.ExecContext(ctx, `INSERT INTO members (image_id, project, status, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`, imageID, project, m.Status, t.UnixNano(), t.UnixNano())
	if err != nil {
		return Member{}, fmt.Errorf("add member %s to image %s: %w", project, imageID, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return Member{}, fmt.Errorf("project %s is a member of image %s already: %w", project, imageID, errs.ErrExists)
	}
	return m, nil
}

// Member implements Members.
func (s *SQLCatalog) Member(ctx context.Context, imageID, project string) (Member, error) {
	m, err := s.member(ctx, imageID, project)
	return m, s.unavailable(err)
}

func (s *SQLCatalog) member(ctx context.Context, imageID, project string) (Member, error) {
	m, err := scanMember(s.db.QueryRowContext(ctx, `SELECT image_id, project, status, created_at, updated_at
		FROM members WHERE image_id = ? AND project = ?`, imageID, project))
	if errors.Is(err, sql.ErrNoRows) {
		return Member{}, fmt.Errorf("project %s is not a member of image %s: %w", project, imageID, errs.ErrNotFound)
	}
	return m, err
}

// ListMembers implements Members.
func (s *SQLCatalog) ListMembers(ctx context.Context, imageID string) ([]Member, error) {
	m, err := s.listMembers(ctx, imageID)
	return m, s.unavailable(err)
}

func (s *SQLCatalog) listMembers(ctx context.Context, imageID string) ([]Member, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT image_id, project, status, created_at, updated_at
		FROM members WHERE image_id = ? ORDER BY created_at, project`, imageID)
	if err != nil {
		return nil, fmt.Errorf("members of image %s: %w", imageID, err)
	}
	defer rows.Close()
	out := []Member{}
	for rows.Next() {
		m, err := scanMember(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, m)
	}
	return out, rows.Err()
}

// SetMemberStatus implements Members.
func (s *SQLCatalog) SetMemberStatus(ctx context.Context, imageID, project, status string) (Member, error) {
	m, err := s.setMemberStatus(ctx, imageID, project, status)
	return m, s.unavailable(err)
}

func (s *SQLCatalog) setMemberStatus(ctx context.Context, imageID, project, status string) (Member, error) {
	res, err := s.db.ExecContext(ctx, `UPDATE members SET status = ?, updated_at = ? WHERE image_id = ? AND project = ?`,
		status, time.Now().UTC().UnixNano(), imageID, project)
	if err != nil {
		return Member{}, fmt.Errorf("member %s of image %s: %w", project, imageID, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return Member{}, fmt.Errorf("project %s is not a member of image %s: %w", project, imageID, errs.ErrNotFound)
	}
	return s.member(ctx, imageID, project)
}

// RemoveMember implements Members.
func (s *SQLCatalog) RemoveMember(ctx context.Context, imageID, project string) error {
	return s.unavailable(s.removeMember(ctx, imageID, project))
}

func (s *SQLCatalog) removeMember(ctx context.Context, imageID, project string) error {
	res, err := s.db.ExecContext(ctx, `DELETE FROM members WHERE image_id = ? AND project = ?`, imageID, project)
	if err != nil {
		return fmt.Errorf("remove member %s of image %s: %w", project, imageID, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("project %s is not a member of image %s: %w", project, imageID, errs.ErrNotFound)
	}
	return nil
}

func scanMember(row scanner) (Member, error) {
	var m Member
	var created, updated int64
	if err := row.Scan(&m.ImageID, &m.Project, &m.Status, &created, &updated); err != nil {
		return Member{}, err
	}
	m.CreatedAt, m.UpdatedAt = time.Unix(0, created).UTC(), time.Unix(0, updated).UTC()
	return m, nil
}
