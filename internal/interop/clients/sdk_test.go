//go:build interop

package clients

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"testing"
)

// TestOpenstackSDK drives openstacksdk (python3-openstacksdk, also what
// Ansible's image modules use) with one script per scenario in testdata/.
func TestOpenstackSDK(t *testing.T) {
	forEachMode(t, func(t *testing.T, s *service) {
		runScenarios(t, s, []scenario{
			{"create_image", sdkCreate},
			{"create_image--filename", sdkCreateFile},
			{"upload", sdkUpload},
			{"images", sdkList},
			{"get_image", sdkShow},
			{"update_image", sdkUpdate},
			{"add_tag", sdkTags},
			{"add_member", sdkMembers},
			{"download_image", sdkDownload},
			{"deactivate_image", sdkDeactivate},
			{"import_image--glance-direct", sdkImportDirect},
			{"import_image--web-download", sdkWebDownload},
			{"delete_image", sdkDelete},
		})
	})
}

// sdkImage is what testdata/sdkcommon.py's image_view prints.
type sdkImage struct {
	ID, Name, Status, Checksum, Owner string
	DiskFormat                        string `json:"disk_format"`
	HWDiskBus                         string `json:"hw_disk_bus"`
	Size                              *int64
	MinDisk                           int  `json:"min_disk"`
	Protected                         bool `json:"is_protected"`
	Hidden                            bool `json:"is_hidden"`
	Tags                              []string
}

// sdkCreates runs a script that creates an image and prints it (or its
// id); the image is deleted when t ends, also when the script failed after
// printing it.
func (s *service) sdkCreates(t *testing.T, script string, args ...string) sdkImage {
	t.Helper()
	s.trackName(t, uniq(t)) // every image these tests create is named uniq(t)
	var img sdkImage
	s.sdk(t, "owner", script, &img, args...)
	if img.ID == "" {
		t.Fatalf("%s printed no image id", script)
	}
	s.track(t, img.ID)
	return img
}

func sdkCreate(t *testing.T, s *service) {
	name := uniq(t)
	img := s.sdkCreates(t, "create.py", name, "-")
	if img.Name != name || img.Status != "queued" || img.DiskFormat != "raw" {
		t.Errorf("openstacksdk saw %+v", img)
	}
	got := s.image(t, img.ID)
	if str(got, "name") != name || str(got, "status") != "queued" || str(got, "min_ram") != "128" ||
		str(got, "owner") != s.people["owner"].project {
		t.Errorf("service holds %v", got)
	}
}

func sdkCreateFile(t *testing.T, s *service) {
	path, data := testFile(t, 3<<20)
	img := s.sdkCreates(t, "create.py", uniq(t), path)
	if img.Status != "active" || img.Size == nil || *img.Size != int64(len(data)) {
		t.Errorf("openstacksdk saw %+v", img)
	}
	s.assertActive(t, img.ID, data)
}

func sdkUpload(t *testing.T, s *service) {
	path, data := testFile(t, 1<<20)
	id := s.newImage(t, "owner", map[string]any{"name": uniq(t)})
	var img sdkImage
	s.sdk(t, "owner", "upload.py", &img, id, path)
	if img.Status != "active" {
		t.Errorf("openstacksdk saw status %q after upload", img.Status)
	}
	s.assertActive(t, id, data)
}

// sdkList pages one image at a time through three images with a tag,
// sorted on two keys, then lists from a marker.
func sdkList(t *testing.T, s *service) {
	tag := randomHex()
	var want []string // names, descending
	for _, suffix := range []string{"c", "b", "a"} {
		name := uniq(t) + "-" + suffix
		s.newImage(t, "owner", map[string]any{"name": name, "tags": []string{tag}})
		want = append(want, name)
	}
	var got struct {
		Desc  []string
		After []string `json:"after_first"`
	}
	s.sdk(t, "owner", "list.py", &got, tag)
	if !slices.Equal(got.Desc, want) {
		t.Errorf("images(sort name:desc, limit=1) listed %v, want %v", got.Desc, want)
	}
	if wantAfter := []string{want[1], want[0]}; !slices.Equal(got.After, wantAfter) {
		t.Errorf("images(sort name asc, marker=first) listed %v, want %v", got.After, wantAfter)
	}
}

func sdkShow(t *testing.T, s *service) {
	name := uniq(t)
	id := s.newImage(t, "owner", map[string]any{"name": name, "min_disk": 2})
	var got struct {
		ByID   sdkImage `json:"by_id"`
		ByName sdkImage `json:"by_name"`
	}
	s.sdk(t, "owner", "show.py", &got, id, name)
	for _, img := range []sdkImage{got.ByID, got.ByName} {
		if img.ID != id || img.Name != name || img.MinDisk != 2 || img.Status != "queued" ||
			img.Owner != s.people["owner"].project {
			t.Errorf("openstacksdk saw %+v", img)
		}
	}
}

func sdkUpdate(t *testing.T, s *service) {
	id := s.newImage(t, "owner", map[string]any{"name": uniq(t)})
	name := uniq(t) + "-renamed"
	var img sdkImage
	s.sdk(t, "owner", "update.py", &img, id, name)
	if img.Name != name || img.HWDiskBus != "scsi" || img.MinDisk != 5 || !img.Protected || !img.Hidden {
		t.Errorf("openstacksdk saw %+v after update_image", img)
	}
	got := s.image(t, id)
	if str(got, "name") != name || str(got, "hw_disk_bus") != "scsi" || str(got, "min_disk") != "5" ||
		got["protected"] != true || got["os_hidden"] != true {
		t.Errorf("after update_image the service holds %v", got)
	}
}

func sdkTags(t *testing.T, s *service) {
	id := s.newImage(t, "owner", map[string]any{"name": uniq(t)})
	var got struct {
		AfterAdd    []string `json:"after_add"`
		AfterRemove []string `json:"after_remove"`
	}
	s.sdk(t, "owner", "tags.py", &got, id)
	if !slices.Equal(got.AfterAdd, []string{"fast", "gold"}) || !slices.Equal(got.AfterRemove, []string{"fast"}) {
		t.Errorf("openstacksdk saw tags %+v", got)
	}
	assertTags(t, s, id, "fast")
}

type sdkMember struct {
	MemberID string `json:"member_id"`
	Status   string
}

// sdkMembers: add a member, the member project accepts (not with --auth
// none, which has one project), list, remove.
func sdkMembers(t *testing.T, s *service) {
	id := s.newImage(t, "owner", map[string]any{"name": uniq(t), "visibility": "shared"})
	other := s.people["other"].project
	var m sdkMember
	s.sdk(t, "owner", "members.py", &m, "add", id, other)
	if m.MemberID != other || m.Status != "pending" {
		t.Errorf("add_member returned %+v", m)
	}
	want := "pending"
	if s.distinct {
		s.sdk(t, "other", "members.py", &m, "accept", id, other)
		if m.Status != "accepted" {
			t.Errorf("update_member returned %+v", m)
		}
		want = "accepted"
	}
	if got := s.members(t, "owner", id)[other]; got != want {
		t.Errorf("service: member %s status %q, want %q", other, got, want)
	}
	var list []sdkMember
	s.sdk(t, "owner", "members.py", &list, "list", id, other)
	if len(list) != 1 || list[0] != (sdkMember{other, want}) {
		t.Errorf("members() listed %+v, want %s %s", list, other, want)
	}
	var none any
	s.sdk(t, "owner", "members.py", &none, "remove", id, other)
	if got := s.members(t, "owner", id); len(got) != 0 {
		t.Errorf("after remove_member the service lists members %v", got)
	}
}

func sdkDownload(t *testing.T, s *service) {
	_, data := testFile(t, 2<<20)
	id := s.newActiveImage(t, "owner", map[string]any{"name": uniq(t)}, data)
	path := filepath.Join(t.TempDir(), "copy")
	var none any
	s.sdk(t, "owner", "download.py", &none, id, path)
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, data) {
		t.Errorf("download_image wrote %d bytes that differ from the %d uploaded", len(got), len(data))
	}
}

func sdkDeactivate(t *testing.T, s *service) {
	_, data := testFile(t, 1<<20)
	id := s.newActiveImage(t, "owner", map[string]any{"name": uniq(t)}, data)
	var got struct{ Deactivated, Reactivated string }
	s.sdk(t, "owner", "deactivate.py", &got, id)
	// openstacksdk ignores an error answer to these actions: the status it
	// read back is what tells.
	if got.Deactivated != "deactivated" || got.Reactivated != "active" {
		t.Errorf("openstacksdk read status %q after deactivate_image, %q after reactivate_image",
			got.Deactivated, got.Reactivated)
	}
	s.assertActive(t, id, data)
}

func sdkImportDirect(t *testing.T, s *service) {
	path, data := testFile(t, 1<<20)
	img := s.sdkCreates(t, "importimage.py", "glance-direct", uniq(t), path)
	s.waitStatus(t, img.ID, "active")
	s.assertActive(t, img.ID, data)
}

func sdkWebDownload(t *testing.T, s *service) {
	_, data := testFile(t, 1<<20)
	url := s.webServer(t, data)
	img := s.sdkCreates(t, "importimage.py", "web-download", uniq(t), url)
	s.waitStatus(t, img.ID, "active")
	s.assertActive(t, img.ID, data)
}

func sdkDelete(t *testing.T, s *service) {
	_, data := testFile(t, 1<<20)
	id := s.newActiveImage(t, "owner", map[string]any{"name": uniq(t)}, data)
	var none any
	s.sdk(t, "owner", "delete.py", &none, id)
	if code := s.imageCode(t, id); code != 404 {
		t.Errorf("after delete_image GET answers %d, want 404", code)
	}
	s.assertStored(t, id, false)
}
