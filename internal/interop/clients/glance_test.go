//go:build interop

package clients

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"testing"
)

// TestGlanceCLI drives the glance CLI (python3-glanceclient), which builds
// its options and its image model from the service's schemas.
func TestGlanceCLI(t *testing.T) {
	forEachMode(t, func(t *testing.T, s *service) {
		runScenarios(t, s, []scenario{
			{"image-create", glanceCreate},
			{"image-create--file", glanceCreateFile},
			{"image-upload", glanceUpload},
			{"image-list", glanceList},
			{"image-show", glanceShow},
			{"image-update", glanceUpdate},
			{"image-tag-update", glanceTags},
			{"member-create", glanceMembers},
			{"image-download", glanceDownload},
			{"image-deactivate", glanceDeactivate},
			{"image-create-via-import", glanceImportDirect},
			{"image-stage", glanceStageImport},
			{"image-import--web-download", glanceWebDownload},
			{"image-delete", glanceDelete},
			{"image-show--unknown", glanceShowUnknown},
			{"image-upload--format-lie", glanceUploadFormatLie},
		})
	})
}

// glanceCreates runs a glance command that creates an image and reads the
// "Property | Value" table it prints. The image is deleted when t ends,
// also when the command failed after creating it.
func (s *service) glanceCreates(t *testing.T, args ...string) map[string]string {
	t.Helper()
	s.trackName(t, uniq(t)) // every image these tests create is named uniq(t)
	out, err := s.exec(t, s.people["owner"].glanceEnv, append([]string{"/usr/bin/glance"}, args...)...)
	p := properties(out)
	if p["id"] != "" {
		s.track(t, p["id"])
	}
	if err != nil {
		t.Fatal(err)
	}
	if p["id"] == "" {
		t.Fatalf("glance printed no image id:\n%s", out)
	}
	return p
}

func glanceCreate(t *testing.T, s *service) {
	name := uniq(t)
	p := s.glanceCreates(t, "image-create", "--name", name,
		"--disk-format", "qcow2", "--container-format", "bare", "--property", "os_distro=debian")
	if p["name"] != name || p["status"] != "queued" || p["disk_format"] != "qcow2" {
		t.Errorf("glance printed name %q status %q disk_format %q, want %q queued qcow2",
			p["name"], p["status"], p["disk_format"], name)
	}
	img := s.image(t, p["id"])
	if str(img, "name") != name || str(img, "status") != "queued" || str(img, "disk_format") != "qcow2" ||
		str(img, "os_distro") != "debian" || str(img, "owner") != s.people["owner"].project {
		t.Errorf("service holds %v", img)
	}
}

func glanceCreateFile(t *testing.T, s *service) {
	path, data := testFile(t, 3<<20)
	p := s.glanceCreates(t, "image-create", "--name", uniq(t),
		"--disk-format", "raw", "--container-format", "bare", "--file", path)
	if p["status"] != "active" || p["size"] != strconv.Itoa(len(data)) {
		t.Errorf("glance printed status %q size %q", p["status"], p["size"])
	}
	s.assertActive(t, p["id"], data)
}

func glanceUpload(t *testing.T, s *service) {
	path, data := testFile(t, 1<<20)
	id := s.newImage(t, "owner", map[string]any{"name": uniq(t)})
	s.glance(t, "owner", "image-upload", "--file", path, id)
	s.assertActive(t, id, data)
}

// glanceList lists three images with a property filter, two sort keys and
// a page size of 2, so glance must follow the service's next link.
func glanceList(t *testing.T, s *service) {
	tag := randomHex()
	var want []string // ids in name:desc order
	for _, suffix := range []string{"c", "b", "a"} {
		want = append(want, s.newImage(t, "owner",
			map[string]any{"name": uniq(t) + "-" + suffix, "interop_list": tag}))
	}
	out := s.glance(t, "owner", "image-list", "--property-filter", "interop_list="+tag,
		"--sort", "name:desc,created_at:asc", "--page-size", "2")
	if got := column(table(out), "ID"); !slices.Equal(got, want) {
		t.Errorf("image-list --sort name:desc --page-size 2 listed %v, want %v\n%s", got, want, out)
	}
	out = s.glance(t, "owner", "image-list", "--property-filter", "interop_list="+tag,
		"--sort-key", "name", "--sort-dir", "asc", "--limit", "2")
	if got := column(table(out), "ID"); !slices.Equal(got, []string{want[2], want[1]}) {
		t.Errorf("image-list --sort-key name --limit 2 listed %v, want %v", got, []string{want[2], want[1]})
	}
}

func column(rows []map[string]string, name string) []string {
	var out []string
	for _, r := range rows {
		out = append(out, r[name])
	}
	return out
}

func glanceShow(t *testing.T, s *service) {
	name := uniq(t)
	id := s.newImage(t, "owner", map[string]any{"name": name, "min_ram": 512})
	p := properties(s.glance(t, "owner", "image-show", id))
	want := map[string]string{"id": id, "name": name, "disk_format": "raw", "container_format": "bare",
		"status": "queued", "min_ram": "512", "visibility": "shared", "owner": s.people["owner"].project}
	for k, v := range want {
		if p[k] != v {
			t.Errorf("image-show printed %s = %q, want %q", k, p[k], v)
		}
	}
}

func glanceUpdate(t *testing.T, s *service) {
	id := s.newImage(t, "owner", map[string]any{"name": uniq(t), "gone": "x"})
	name := uniq(t) + "-renamed"
	s.glance(t, "owner", "image-update", "--name", name, "--property", "hw_disk_bus=scsi",
		"--remove-property", "gone", "--min-disk", "3", "--protected", "True", "--hidden", "True", id)
	img := s.image(t, id)
	if str(img, "name") != name || str(img, "hw_disk_bus") != "scsi" || str(img, "min_disk") != "3" ||
		img["protected"] != true || img["os_hidden"] != true {
		t.Errorf("after image-update the service holds %v", img)
	}
	if _, ok := img["gone"]; ok {
		t.Errorf("--remove-property gone: still there: %v", img)
	}
}

func glanceTags(t *testing.T, s *service) {
	id := s.newImage(t, "owner", map[string]any{"name": uniq(t)})
	s.glance(t, "owner", "image-tag-update", id, "gold")
	s.glance(t, "owner", "image-tag-update", id, "fast")
	assertTags(t, s, id, "fast", "gold")
	s.glance(t, "owner", "image-tag-delete", id, "gold")
	assertTags(t, s, id, "fast")
}

func assertTags(t *testing.T, s *service, id string, want ...string) {
	t.Helper()
	var got []string
	tags, _ := s.image(t, id)["tags"].([]any)
	for _, tag := range tags {
		got = append(got, str(map[string]any{"t": tag}, "t"))
	}
	slices.Sort(got)
	if !slices.Equal(got, want) {
		t.Errorf("image %s has tags %v, want %v", id, got, want)
	}
}

// glanceMembers shares an image with the other project, which accepts it
// (with --auth none there is one project: the accept step is left out).
func glanceMembers(t *testing.T, s *service) {
	id := s.newImage(t, "owner", map[string]any{"name": uniq(t), "visibility": "shared"})
	other := s.people["other"].project
	rows := table(s.glance(t, "owner", "member-create", id, other))
	if len(rows) != 1 || rows[0]["Member ID"] != other || rows[0]["Status"] != "pending" {
		t.Errorf("member-create printed %v", rows)
	}
	want := "pending"
	if s.distinct {
		s.glance(t, "other", "member-update", id, other, "accepted")
		want = "accepted"
	}
	if got := s.members(t, "owner", id)[other]; got != want {
		t.Errorf("service: member %s status %q, want %q", other, got, want)
	}
	rows = table(s.glance(t, "owner", "member-list", "--image-id", id))
	if len(rows) != 1 || rows[0]["Member ID"] != other || rows[0]["Status"] != want {
		t.Errorf("member-list printed %v, want %s %s", rows, other, want)
	}
	s.glance(t, "owner", "member-delete", id, other)
	if got := s.members(t, "owner", id); len(got) != 0 {
		t.Errorf("after member-delete the service lists members %v", got)
	}
}

func glanceDownload(t *testing.T, s *service) {
	_, data := testFile(t, 2<<20)
	id := s.newActiveImage(t, "owner", map[string]any{"name": uniq(t)}, data)
	out := filepath.Join(t.TempDir(), "copy")
	s.glance(t, "owner", "image-download", "--file", out, id)
	got, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, data) {
		t.Errorf("image-download wrote %d bytes that differ from the %d uploaded", len(got), len(data))
	}
}

func glanceDeactivate(t *testing.T, s *service) {
	_, data := testFile(t, 1<<20)
	id := s.newActiveImage(t, "owner", map[string]any{"name": uniq(t)}, data)
	s.glance(t, "owner", "image-deactivate", id)
	if st := str(s.image(t, id), "status"); st != "deactivated" {
		t.Errorf("after image-deactivate: status %q", st)
	}
	if s.distinct { // the owner is no admin: data is refused while deactivated
		if code, _ := s.request(t, "owner", "GET", "/v2/images/"+id+"/file", "", nil); code != 403 {
			t.Errorf("download of a deactivated image by its (non-admin) owner: %d, want 403", code)
		}
	}
	s.glance(t, "owner", "image-reactivate", id)
	s.assertActive(t, id, data)
}

func glanceImportDirect(t *testing.T, s *service) {
	path, data := testFile(t, 1<<20)
	glanceCreateViaImport(t, s, data, "glance-direct", "--file", path)
}

// glanceCreateViaImport runs image-create-via-import with method and its
// source, and checks the image becomes active holding data.
func glanceCreateViaImport(t *testing.T, s *service, data []byte, method string, source ...string) {
	t.Helper()
	args := append([]string{"image-create-via-import", "--name", uniq(t), "--disk-format", "raw",
		"--container-format", "bare", "--import-method", method}, source...)
	p := s.glanceCreates(t, args...)
	s.waitStatus(t, p["id"], "active")
	s.assertActive(t, p["id"], data)
}

func glanceStageImport(t *testing.T, s *service) {
	path, data := testFile(t, 1<<20)
	id := s.newImage(t, "owner", map[string]any{"name": uniq(t)})
	s.glance(t, "owner", "image-stage", "--file", path, id)
	if st := str(s.image(t, id), "status"); st != "uploading" {
		t.Errorf("after image-stage: status %q, want uploading", st)
	}
	s.glance(t, "owner", "image-import", "--import-method", "glance-direct", id)
	s.waitStatus(t, id, "active")
	s.assertActive(t, id, data)
}

func glanceWebDownload(t *testing.T, s *service) {
	_, data := testFile(t, 1<<20)
	glanceCreateViaImport(t, s, data, "web-download", "--uri", s.webServer(t, data))
}

func glanceDelete(t *testing.T, s *service) {
	_, data := testFile(t, 1<<20)
	id := s.newActiveImage(t, "owner", map[string]any{"name": uniq(t)}, data)
	s.assertStored(t, id, true)
	s.glance(t, "owner", "image-delete", id)
	if code := s.imageCode(t, id); code != 404 {
		t.Errorf("after image-delete GET answers %d, want 404", code)
	}
	s.assertStored(t, id, false)
}
