// Package nova checks cowdisk against OpenStack's own code on one machine:
// Nova's real Python (imagebackend.Rbd, images.fetch_to_raw,
// nova.image.glance; only libvirt left out) against cowdisk's image
// service, cowdisk's node agent against a real Glance, and the RBD layout
// of both services side by side. The tests are built with the interop tag
// (make test-interop) and need a dev cluster (COWDISK_TEST_CEPH_CONF).
package nova
