package ostest

import (
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
)

// glanceConfTemplate is a glance-api.conf with the RBD store as
// OPENSTACK-NOTES.md describes it: SQLite, one process (workers = 0),
// locations shown, 8 MiB objects. %[n] are filled by writeConfig: host,
// dir, paste flavor, pool, ceph user, ceph.conf, port.
const glanceConfTemplate = `[DEFAULT]
bind_host = %[1]s
bind_port = %[7]s
workers = 0
log_file = %[2]s/glance-api.log
use_stderr = false
show_image_direct_url = True
show_multiple_locations = True
enabled_backends = rbd:rbd
enabled_import_methods = [glance-direct,web-download]
[database]
connection = sqlite:///%[2]s/glance.sqlite
[paste_deploy]
flavor = %[3]s
config_file = %[2]s/glance-api-paste.ini
[glance_store]
default_backend = rbd
[rbd]
rbd_store_pool = %[4]s
rbd_store_user = %[5]s
rbd_store_ceph_conf = %[6]s
rbd_store_chunk_size = 8
[os_glance_staging_store]
filesystem_store_datadir = %[2]s/staging
[os_glance_tasks_store]
filesystem_store_datadir = %[2]s/tasks
[oslo_concurrency]
lock_path = %[2]s/lock
[oslo_policy]
enforce_new_defaults = False
enforce_scope = False
`

// glanceKeystoneTemplate is the [keystone_authtoken] section for
// GlanceKeystone: password auth of Glance's own service user. The
// middleware looks Keystone up in the catalog by interface (internal by
// default); a bootstrapped Keystone has only the public endpoint.
const glanceKeystoneTemplate = `[keystone_authtoken]
www_authenticate_uri = %[1]s
auth_url = %[1]s
interface = public
auth_type = password
username = %[2]s
password = %[3]s
project_name = %[4]s
user_domain_id = %[5]s
project_domain_id = %[5]s
`

// writeConfig writes glance-api.conf and the paste pipeline into Dir.
func (g *Glance) writeConfig(o GlanceOptions, addr string) error {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return err
	}
	for _, d := range []string{"staging", "tasks", "lock", "home"} {
		if err := os.MkdirAll(filepath.Join(g.Dir, d), 0o700); err != nil {
			return err
		}
	}
	if o.CephUser == "" {
		o.CephUser = "admin"
	}
	flavor := ""
	if o.Auth == GlanceKeystone {
		flavor = "keystone"
	}
	conf := fmt.Sprintf(glanceConfTemplate, host, g.Dir, flavor, o.Pool, o.CephUser, o.CephConf, port)
	if o.Auth == GlanceKeystone {
		k := o.Keystone
		if k.URL == "" || k.Username == "" {
			return fmt.Errorf("glance: keystone auth needs a Keystone URL and a service user")
		}
		if k.Domain == "" {
			k.Domain = "default"
		}
		conf += fmt.Sprintf(glanceKeystoneTemplate, k.URL, k.Username, k.Password, k.Project, k.Domain)
	}
	if err := os.WriteFile(g.conf, []byte(conf), 0o600); err != nil {
		return err
	}
	paste, err := glancePasteFor(o.Auth)
	if err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(g.Dir, "glance-api-paste.ini"), paste, 0o600)
}

// glancePasteFor copies the packaged paste file; for GlanceHeaders the
// default pipeline's unauthenticated-context becomes context, which builds
// the request context from keystonemiddleware's headers.
func glancePasteFor(auth GlanceAuth) ([]byte, error) {
	b, err := os.ReadFile(glancePaste)
	if err != nil {
		return nil, err
	}
	if auth != GlanceHeaders {
		return b, nil
	}
	lines := strings.Split(string(b), "\n")
	for i, l := range lines {
		if strings.TrimSpace(l) == "[pipeline:glance-api]" && i+1 < len(lines) &&
			strings.Contains(lines[i+1], " unauthenticated-context ") {
			lines[i+1] = strings.Replace(lines[i+1], " unauthenticated-context ", " context ", 1)
			return []byte(strings.Join(lines, "\n")), nil
		}
	}
	return nil, fmt.Errorf("%s: no [pipeline:glance-api] with unauthenticated-context to replace", glancePaste)
}
