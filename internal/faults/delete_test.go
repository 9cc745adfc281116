//go:build faults

package faults

import (
	"net/http"
	"testing"
)

// Deleting an image that disks depend on. The chosen behaviour (see
// rbdstore.Delete and api.delete): the image service refuses with 409 while
// clones of the image's own snapshot exist, and removes nothing. Disks made
// by the fallback hang off the cluster-wide base in the vms pool, not off
// the image's data, so that image can be deleted; its disks keep their
// base. Either way every disk stays readable with its content.
func TestImageDeletedWithDependentDisks(t *testing.T) {
	f := newFixture(t, "f-del", options{})
	raw := rawImage(8<<20, 5)
	rawID := f.image("", "raw", raw, nil)
	qraw := rawImage(16<<20, 6)
	qID := f.image("", "qcow2", qcow2Image(t, qraw), nil)
	a, b := instanceID(), instanceID()
	if d := f.mustDisk(a, rawID); d.Method != "clone" {
		t.Fatalf("disk of the raw image made by %q, want clone", d.Method)
	}
	if d := f.mustDisk(b, qID); d.Method != "base-clone" {
		t.Fatalf("disk of the qcow2 image made by %q, want base-clone", d.Method)
	}

	r := call(t, "DELETE", f.images.url()+"/v2/images/"+rawID, "", nil)
	t.Logf("delete of a cloned image: %s", r)
	if r.code != http.StatusConflict {
		t.Errorf("delete of an image with a dependent clone: %s, want 409", r)
	}
	if code, img := f.imageRecord("", rawID); code != http.StatusOK || img["status"] != "active" {
		t.Errorf("after the refused delete the image is %d %v, want 200 active", code, img["status"])
	}
	assertContent(t, f.c, f.vmsPool, diskName(a), raw)

	if r := call(t, "DELETE", f.images.url()+"/v2/images/"+qID, "", nil); r.code != http.StatusNoContent {
		t.Errorf("delete of an image whose disks use the base: %s, want 204", r)
	}
	if code, _ := f.imageRecord("", qID); code != http.StatusNotFound {
		t.Errorf("deleted image: GET %d, want 404", code)
	}
	assertContent(t, f.c, f.vmsPool, diskName(b), qraw)
	if r := f.createDisk(instanceID(), qID); r.code != http.StatusNotFound {
		t.Errorf("disk from a deleted image: %s, want 404", r)
	}

	// A flattened disk no longer depends on the image: now it can go.
	if r := call(t, "POST", f.agent.url()+"/v1/disks/"+a+"/disk/flatten", "", nil); r.code != http.StatusOK {
		t.Fatalf("flatten: %s", r)
	}
	if r := call(t, "DELETE", f.images.url()+"/v2/images/"+rawID, "", nil); r.code != http.StatusNoContent {
		t.Errorf("delete after the only clone was flattened: %s, want 204", r)
	}
	assertContent(t, f.c, f.vmsPool, diskName(a), raw)
	f.assertImagesPool()

	f.deleteInstance(a)
	f.deleteInstance(b)
	f.prune()
	f.assertVMsEmpty()
}
