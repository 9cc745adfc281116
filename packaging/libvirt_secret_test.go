package packaging

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// secretHost runs the guide's secret steps against a real libvirtd holding
// only its secret driver (the test:/// driver has no secrets, and the QEMU
// driver needs a hypervisor host), in a mount namespace of its own: /run
// and /etc/libvirt are fresh tmpfs there, so neither the daemon's socket
// nor the secret it stores outlives the script. $1 is the directory that
// stands for the guide's /root, $2 the guide's steps; the script prints the
// secret's UUID and the value libvirt kept.
const secretHost = `
drivers=$1/libvirt-drivers
mkdir -p "$drivers"
ln -sf "$(dpkg -L libvirt-daemon | grep '/connection-driver/libvirt_driver_secret\.so$')" "$drivers/"
mount -t tmpfs -o mode=0755 tmpfs /run
mount -t tmpfs -o mode=0755 tmpfs /etc/libvirt
LIBVIRT_DRIVER_DIR=$drivers libvirtd --timeout 120 >"$1/libvirtd.log" 2>&1 &
pid=$!
trap 'kill $pid; wait $pid || true' EXIT
i=0
until [ -S /run/libvirt/libvirt-sock ]; do
  i=$((i+1))
  if [ $i -gt 100 ]; then cat "$1/libvirtd.log"; echo "libvirtd: no socket after 10 s"; exit 1; fi
  sleep 0.1
done
export LIBVIRT_DEFAULT_URI=secret:///system
. "$2"
echo "uuid=$uuid"
echo "value=$(virsh secret-get-value "$uuid")"
`

// defineSecretAsDocumented runs section 4 of the guide as written (its
// /root/ files in dir, ceph as the admin of env) and returns the UUID of
// the secret it defined and the key libvirt holds for it (base64).
func defineSecretAsDocumented(t *testing.T, dir string, env []string) (uuid, value string) {
	t.Helper()
	steps := strings.ReplaceAll(docShell(t, "4. The libvirt secret"), "/root/", dir+"/")
	stepsFile := filepath.Join(dir, "secret-steps.sh")
	if err := os.WriteFile(stepsFile, []byte(steps), 0o600); err != nil {
		t.Fatal(err)
	}
	hostFile := filepath.Join(dir, "secret-host.sh")
	if err := os.WriteFile(hostFile, []byte(secretHost), 0o600); err != nil {
		t.Fatal(err)
	}
	out := runShell(t, `exec unshare -m --propagation private sh -eu "$1" "$2" "$3"`, env, hostFile, dir, stepsFile)
	t.Logf("the guide's secret steps:\n%s", out)
	for _, l := range strings.Split(out, "\n") {
		if v, ok := strings.CutPrefix(l, "uuid="); ok {
			uuid = v
		}
		if v, ok := strings.CutPrefix(l, "value="); ok {
			value = v
		}
	}
	if uuid == "" || !strings.Contains(out, uuid+"   ceph client.libvirt secret") {
		t.Fatalf("secret-list does not show the secret %q with usage ceph", uuid)
	}
	for _, f := range []string{"client.libvirt.key", "client.libvirt.secret.xml"} {
		if _, err := os.Stat(filepath.Join(dir, f)); !os.IsNotExist(err) {
			t.Errorf("the guide's steps left %s behind (shred -u): %v", f, err)
		}
	}
	return uuid, value
}
