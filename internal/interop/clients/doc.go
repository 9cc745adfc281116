// Package clients drives cowdisk's image service with OpenStack's own
// clients: the glance CLI, the openstack CLI and openstacksdk, run as the
// Debian packages install them. Its tests carry the build tag interop and run
// with `make test-interop` (scripts/test-interop.sh); they start the service
// as the cowdisk binary, so they exercise what an operator runs.
package clients
