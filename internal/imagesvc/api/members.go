package api

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"unicode/utf8"

	"github.com/cowdisk/cowdisk/internal/errs"
	"github.com/cowdisk/cowdisk/internal/imagesvc/auth"
	"github.com/cowdisk/cowdisk/internal/imagesvc/catalog"
)

var memberStatuses = []string{catalog.MemberPending, catalog.MemberAccepted, catalog.MemberRejected}

func memberView(m catalog.Member) map[string]any {
	return map[string]any{"image_id": m.ImageID, "member_id": m.Project, "status": m.Status,
		"created_at": m.CreatedAt.Format(glanceTime), "updated_at": m.UpdatedAt.Format(glanceTime),
		"schema": "/v2/schemas/member"}
}

// maxMembers is Glance's image_member_quota default.
const maxMembers = 128

// memberField reads the string key of a member body. Like Glance it ignores
// other keys: openstacksdk sends the whole member ({"member": ..., "status":
// "accepted"}) to accept a share.
func memberField(r *http.Request, w http.ResponseWriter, key string) (string, error) {
	fields, err := decodeObject(r, w)
	if err != nil {
		return "", err
	}
	var v string
	raw, ok := fields[key]
	if !ok {
		return "", fmt.Errorf(`body has no %q (want {"%s": "<string>"}): %w`, key, key, errs.ErrInvalid)
	}
	if json.Unmarshal(raw, &v) != nil || v == "" || len(v) > maxKeyLen || !utf8.ValidString(v) {
		return "", fmt.Errorf("%s must be a string of 1 to %d characters: %w", key, maxKeyLen, errs.ErrInvalid)
	}
	return v, nil
}

// addMember shares an image with a project; only the owner (or an admin)
// may, and only images with visibility shared have members, as in Glance.
func (s *Server) addMember(w http.ResponseWriter, r *http.Request, p auth.Principal) {
	ctx := r.Context()
	img, err := s.lookupWritable(ctx, p, r.PathValue("id"))
	if err == nil && img.Visibility != catalog.Shared {
		err = fmt.Errorf("image %s is %s; only shared images have members: %w", img.ID, img.Visibility, errs.ErrPermission)
	}
	var project string
	if err == nil {
		project, err = memberField(r, w, "member")
	}
	var m catalog.Member
	if err == nil {
		m, err = s.cfg.Catalog.AddMember(ctx, img.ID, project)
	}
	if err == nil {
		err = s.memberQuota(r, img.ID, project)
	}
	s.answer(w, r, err, http.StatusOK, memberView(m))
}

// memberQuota counts after adding, so that concurrent adds cannot pass the
// quota together: a member that made the image go past it is removed again
// (413, as Glance answers).
func (s *Server) memberQuota(r *http.Request, imageID, project string) error {
	ctx := context.WithoutCancel(r.Context())
	ms, err := s.cfg.Catalog.ListMembers(ctx, imageID)
	if err == nil && len(ms) <= maxMembers {
		return nil
	}
	if rerr := s.cfg.Catalog.RemoveMember(ctx, imageID, project); rerr != nil {
		logger(r).Error("member past the quota left behind", "image", imageID, "member", project, "err", rerr)
	}
	if err != nil {
		return err
	}
	return statusErr(http.StatusRequestEntityTooLarge, "image %s has the maximum of %d members", imageID, maxMembers)
}

// listMembers shows the owner every member, and a member itself only.
func (s *Server) listMembers(w http.ResponseWriter, r *http.Request, p auth.Principal) {
	ctx := r.Context()
	img, err := s.lookup(ctx, p, r.PathValue("id"))
	var ms []catalog.Member
	if err == nil {
		ms, err = s.cfg.Catalog.ListMembers(ctx, img.ID)
	}
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	out := []map[string]any{}
	for _, m := range ms {
		if p.CanModify(img.Owner) || p.ReadsAll() || m.Project == p.Project {
			out = append(out, memberView(m))
		}
	}
	writeJSON(w, http.StatusOK, map[string]any{"members": out, "schema": "/v2/schemas/members"})
}

// member finds one membership the caller may see: the owner's, an admin's
// or service's view of any, a member's view of its own.
func (s *Server) member(r *http.Request, p auth.Principal) (catalog.Image, catalog.Member, error) {
	ctx := r.Context()
	img, err := s.lookup(ctx, p, r.PathValue("id"))
	if err != nil {
		return img, catalog.Member{}, err
	}
	project := r.PathValue("member")
	if !p.CanModify(img.Owner) && !p.ReadsAll() && project != p.Project {
		return img, catalog.Member{}, fmt.Errorf("member %s of image %s: %w", project, img.ID, errs.ErrNotFound)
	}
	m, err := s.cfg.Catalog.Member(ctx, img.ID, project)
	return img, m, err
}

func (s *Server) getMember(w http.ResponseWriter, r *http.Request, p auth.Principal) {
	_, m, err := s.member(r, p)
	s.answer(w, r, err, http.StatusOK, memberView(m))
}

// setMember accepts or rejects a share; only the member project itself
// decides, never the owner (Glance's rule).
func (s *Server) setMember(w http.ResponseWriter, r *http.Request, p auth.Principal) {
	img, m, err := s.member(r, p)
	if err == nil && (m.Project != p.Project || p.Has(auth.Reader) && !p.Has(auth.Member)) {
		err = fmt.Errorf("only project %s's members decide on its membership: %w", m.Project, errs.ErrPermission)
	}
	var status string
	if err == nil {
		status, err = memberField(r, w, "status")
	}
	if err == nil && !slices.Contains(memberStatuses, status) {
		err = fmt.Errorf("status %q (want one of %v): %w", status, memberStatuses, errs.ErrInvalid)
	}
	if err == nil {
		m, err = s.cfg.Catalog.SetMemberStatus(r.Context(), img.ID, m.Project, status)
	}
	s.answer(w, r, err, http.StatusOK, memberView(m))
}

func (s *Server) removeMember(w http.ResponseWriter, r *http.Request, p auth.Principal) {
	ctx := r.Context()
	img, err := s.lookupWritable(ctx, p, r.PathValue("id"))
	if err == nil {
		err = s.cfg.Catalog.RemoveMember(ctx, img.ID, r.PathValue("member"))
	}
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}
