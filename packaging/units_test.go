package packaging

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/BurntSushi/toml"
)

// TestSystemdUnits: both units pass systemd-analyze verify and carry the
// hardening and wiring the operations guide promises.
func TestSystemdUnits(t *testing.T) {
	analyze := need(t, "systemd-analyze", "systemd")
	bin := binary(t)
	dir := t.TempDir()
	var paths []string
	// The state directories are the servers' defaults for root (and the
	// example configs' data-dir / local-dir): nothing else is writable.
	for u, state := range map[string]string{"images": "cowdisk/imagesvc", "node": "cowdisk/node"} {
		name := "cowdisk-" + u + ".service"
		b, err := os.ReadFile(filepath.Join("systemd", name))
		if err != nil {
			t.Fatal(err)
		}
		text := string(b)
		for _, want := range []string{"ProtectSystem=strict", "ProtectHome=yes", "PrivateTmp=yes", "NoNewPrivileges=yes",
			"StateDirectory=" + state, "EnvironmentFile=-/etc/default/cowdisk-" + u,
			"ExecStart=/usr/bin/cowdisk serve " + u + " --config /etc/cowdisk/" + u + ".toml", "User=cowdisk"} {
			if !strings.Contains(text, "\n"+want+"\n") {
				t.Errorf("%s lacks %q", name, want)
			}
		}
		// The example config (packaged as /etc/cowdisk/<u>.toml) writes
		// only inside the state directory.
		var cfg map[string]any
		if _, err := toml.DecodeFile("../docs/examples/"+u+".toml", &cfg); err != nil {
			t.Fatal(err)
		}
		key := map[string]string{"images": "data-dir", "node": "local-dir"}[u]
		if dir, _ := cfg[key].(string); dir != "/var/lib/"+state {
			t.Errorf("docs/examples/%s.toml: %s = %q, want the unit's state directory /var/lib/%s", u, key, dir, state)
		}
		// verify checks that ExecStart's program exists: point it at the
		// binary under test, change nothing else.
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(strings.ReplaceAll(text, "/usr/bin/cowdisk", bin)), 0o644); err != nil {
			t.Fatal(err)
		}
		paths = append(paths, p)
	}
	out, err := exec.Command(analyze, append([]string{"verify"}, paths...)...).CombinedOutput()
	if err != nil {
		t.Fatalf("systemd-analyze verify: %v\n%s", err, out)
	}
	// It also reports on unrelated units of this machine; ours must be silent.
	for _, line := range strings.Split(string(out), "\n") {
		if strings.HasPrefix(line, "cowdisk-") || strings.Contains(line, dir) {
			t.Errorf("systemd-analyze verify: %s", line)
		}
	}
}

// TestAlertRules: promtool accepts the rules and their unit tests pass
// (the alerts fire on the series they are about).
func TestAlertRules(t *testing.T) {
	promtool := need(t, "promtool", "prometheus")
	for _, args := range [][]string{
		{"check", "rules", "monitoring/cowdisk-alerts.yml"},
		{"test", "rules", "monitoring/cowdisk-alerts.test.yml"},
	} {
		if out, err := exec.Command(promtool, args...).CombinedOutput(); err != nil {
			t.Errorf("promtool %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
}
