//go:build interop

package clients

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"testing"
)

// TestOpenstackCLI drives `openstack image ...` (python3-openstackclient,
// which talks to the service through openstacksdk).
func TestOpenstackCLI(t *testing.T) {
	forEachMode(t, func(t *testing.T, s *service) {
		runScenarios(t, s, []scenario{
			{"image-create", osCreate},
			{"image-create--file", osCreateFile},
			{"image-create--import", osCreateImport},
			{"image-list", osList},
			{"image-show", osShow},
			{"image-set", osSet},
			{"image-set--tag", osTags},
			{"image-add-project", osMembers},
			{"image-save", osSave},
			{"image-set--deactivate", osDeactivate},
			{"image-delete", osDelete},
			{"image-show--unknown", osShowUnknown},
		})
	})
}

// osCreates runs `openstack image create ... -f json` as owner, on a
// terminal (testdata/onterminal.py) when it is given no file. The image is
// deleted when t ends, also when the command failed after creating it.
func (s *service) osCreates(t *testing.T, tty bool, args ...string) map[string]any {
	t.Helper()
	s.trackName(t, uniq(t)) // every image these tests create is named uniq(t)
	argv := append([]string{"/usr/bin/openstack", "image", "create", "-f", "json"}, args...)
	if tty {
		argv = append([]string{python, testdata(t, "onterminal.py")}, argv...)
	}
	out, err := s.exec(t, s.people["owner"].osEnv, argv...)
	var img map[string]any
	jerr := json.Unmarshal([]byte(out), &img)
	if id := str(img, "id"); id != "" {
		s.track(t, id)
	}
	if err != nil {
		t.Fatal(err)
	}
	if jerr != nil || str(img, "id") == "" {
		t.Fatalf("openstack image create printed no image (%v):\n%s", jerr, out)
	}
	return img
}

func osCreate(t *testing.T, s *service) {
	name := uniq(t)
	img := s.osCreates(t, true, "--disk-format", "qcow2", "--container-format", "bare", "--min-ram", "256",
		"--property", "os_distro=debian", name)
	if str(img, "name") != name || str(img, "status") != "queued" || str(img, "disk_format") != "qcow2" {
		t.Errorf("openstack printed %v", img)
	}
	got := s.image(t, str(img, "id"))
	if str(got, "name") != name || str(got, "status") != "queued" || str(got, "min_ram") != "256" ||
		str(got, "os_distro") != "debian" || str(got, "owner") != s.people["owner"].project {
		t.Errorf("service holds %v", got)
	}
}

func osCreateFile(t *testing.T, s *service) {
	path, data := testFile(t, 3<<20)
	img := s.osCreates(t, false, "--disk-format", "raw", "--container-format", "bare", "--file", path, uniq(t))
	// openstack prints the image as created, before the upload: only the
	// service's state tells whether the data arrived.
	if str(img, "disk_format") != "raw" {
		t.Errorf("openstack printed %v", img)
	}
	s.assertActive(t, str(img, "id"), data)
}

// osCreateImport: --import stages the file and imports it with glance-direct.
func osCreateImport(t *testing.T, s *service) {
	path, data := testFile(t, 1<<20)
	img := s.osCreates(t, false, "--import", "--disk-format", "raw", "--container-format", "bare",
		"--file", path, uniq(t))
	s.waitStatus(t, str(img, "id"), "active")
	s.assertActive(t, str(img, "id"), data)
}

// osList: a property filter, the name and tag filters, and --limit.
// openstack sorts and filters properties on the client, after listing every
// page (without --limit) or one page of --limit images (with it), so
// --limit goes with a filter the service applies (--tag).
func osList(t *testing.T, s *service) {
	tag := randomHex()
	var want []string // names, sorted descending
	for _, suffix := range []string{"c", "b", "a"} {
		name := uniq(t) + "-" + suffix
		s.newImage(t, "owner", map[string]any{"name": name, "interop_list": tag, "tags": []string{tag}})
		want = append(want, name)
	}
	var rows []map[string]any
	s.openstackJSON(t, "owner", &rows, "image", "list", "--property", "interop_list="+tag, "--sort", "name:desc")
	if got := names(rows); !slices.Equal(got, want) {
		t.Errorf("image list --property --sort name:desc listed %v, want %v", got, want)
	}
	s.openstackJSON(t, "owner", &rows, "image", "list", "--tag", tag, "--limit", "2")
	if got := names(rows); len(got) != 2 || !slices.Contains(want, got[0]) || !slices.Contains(want, got[1]) ||
		got[0] == got[1] {
		t.Errorf("image list --tag --limit 2 listed %v, want two of %v", got, want)
	}
	s.openstackJSON(t, "owner", &rows, "image", "list", "--name", want[1])
	if len(rows) != 1 || str(rows[0], "Name") != want[1] {
		t.Errorf("image list --name %s listed %v", want[1], rows)
	}
}

func names(rows []map[string]any) []string {
	var out []string
	for _, r := range rows {
		out = append(out, str(r, "Name"))
	}
	return out
}

// osShow shows an image by id and by name (a name lookup goes through
// openstacksdk's find_image, which lists with os_hidden).
func osShow(t *testing.T, s *service) {
	name := uniq(t)
	id := s.newImage(t, "owner", map[string]any{"name": name, "min_disk": 2})
	for _, ref := range []string{id, name} {
		var img map[string]any
		s.openstackJSON(t, "owner", &img, "image", "show", ref)
		if str(img, "id") != id || str(img, "name") != name || str(img, "min_disk") != "2" ||
			str(img, "status") != "queued" {
			t.Errorf("image show %s printed %v", ref, img)
		}
	}
}

func osSet(t *testing.T, s *service) {
	id := s.newImage(t, "owner", map[string]any{"name": uniq(t)})
	name := uniq(t) + "-renamed"
	s.openstack(t, "owner", "image", "set", "--name", name, "--property", "hw_disk_bus=scsi",
		"--min-disk", "4", "--protected", "--hidden", id)
	img := s.image(t, id)
	if str(img, "name") != name || str(img, "hw_disk_bus") != "scsi" || str(img, "min_disk") != "4" ||
		img["protected"] != true || img["os_hidden"] != true {
		t.Errorf("after image set the service holds %v", img)
	}
	s.openstack(t, "owner", "image", "set", "--unprotected", "--unhidden", id)
	img = s.image(t, id)
	if img["protected"] != false || img["os_hidden"] != false {
		t.Errorf("after image set --unprotected --unhidden: protected %v os_hidden %v",
			img["protected"], img["os_hidden"])
	}
}

func osTags(t *testing.T, s *service) {
	id := s.newImage(t, "owner", map[string]any{"name": uniq(t)})
	s.openstack(t, "owner", "image", "set", "--tag", "gold", "--tag", "fast", id)
	assertTags(t, s, id, "fast", "gold")
	s.openstack(t, "owner", "image", "unset", "--tag", "gold", id)
	assertTags(t, s, id, "fast")
}

// osMembers: add a project, the member accepts, list, remove. openstack
// reads the accepting project from the token (`image set --accept`) and
// looks up the project of `image remove project` in Keystone, so without
// an identity service those two steps go over plain HTTP.
func osMembers(t *testing.T, s *service) {
	id := s.newImage(t, "owner", map[string]any{"name": uniq(t), "visibility": "shared"})
	other := s.people["other"].project
	var member map[string]any
	s.openstackJSON(t, "owner", &member, "image", "add", "project", id, other)
	if str(member, "member_id") != other || str(member, "status") != "pending" {
		t.Errorf("image add project printed %v", member)
	}
	want := "pending"
	switch {
	case s.identity:
		s.openstack(t, "other", "image", "set", "--accept", id)
		want = "accepted"
	case s.distinct:
		code, body := s.request(t, "other", "PUT", "/v2/images/"+id+"/members/"+other,
			"application/json", []byte(`{"status":"accepted"}`))
		if code != 200 {
			t.Fatalf("accepting the share: %d %s", code, body)
		}
		want = "accepted"
	}
	var rows []map[string]any
	s.openstackJSON(t, "owner", &rows, "image", "member", "list", id)
	if len(rows) != 1 || str(rows[0], "Member ID") != other || str(rows[0], "Status") != want {
		t.Errorf("image member list printed %v, want %s %s", rows, other, want)
	}
	if s.identity {
		s.openstack(t, "owner", "image", "remove", "project", id, other)
	} else if code, body := s.request(t, "owner", "DELETE", "/v2/images/"+id+"/members/"+other, "", nil); code != 204 {
		t.Fatalf("removing the member: %d %s", code, body)
	}
	if got := s.members(t, "owner", id); len(got) != 0 {
		t.Errorf("after image remove project the service lists members %v", got)
	}
}

func osSave(t *testing.T, s *service) {
	_, data := testFile(t, 2<<20)
	id := s.newActiveImage(t, "owner", map[string]any{"name": uniq(t)}, data)
	out := filepath.Join(t.TempDir(), "copy")
	s.openstack(t, "owner", "image", "save", "--file", out, id)
	got, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, data) {
		t.Errorf("image save wrote %d bytes that differ from the %d uploaded", len(got), len(data))
	}
}

func osDeactivate(t *testing.T, s *service) {
	_, data := testFile(t, 1<<20)
	id := s.newActiveImage(t, "owner", map[string]any{"name": uniq(t)}, data)
	s.openstack(t, "owner", "image", "set", "--deactivate", id)
	if st := str(s.image(t, id), "status"); st != "deactivated" {
		t.Errorf("after image set --deactivate: status %q", st)
	}
	s.openstack(t, "owner", "image", "set", "--activate", id)
	s.assertActive(t, id, data)
}

func osDelete(t *testing.T, s *service) {
	_, data := testFile(t, 1<<20)
	id := s.newActiveImage(t, "owner", map[string]any{"name": uniq(t)}, data)
	s.openstack(t, "owner", "image", "delete", id)
	if code := s.imageCode(t, id); code != 404 {
		t.Errorf("after image delete GET answers %d, want 404", code)
	}
	s.assertStored(t, id, false)
}
