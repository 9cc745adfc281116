package servecmd

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/spf13/cobra"

	"github.com/cowdisk/cowdisk/internal/errs"
	"github.com/cowdisk/cowdisk/internal/imagesvc"
)

func writeFile(t *testing.T, name, text string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestConfigPrecedence: command line > environment > file > default, for
// both servers, over whatever flags the command has.
func TestConfigPrecedence(t *testing.T) {
	file := writeFile(t, "c.toml", "listen = \"127.0.0.1:3\"\nvms-pool = \"file-vms\"\n"+
		"images-pool = \"file-images\"\nmax-fetches = 7\nnever-download = true\nallow-pool = [\"a\", \"b,c\"]\n")
	for _, tc := range []struct {
		name string
		args []string
		env  []string
		want map[string]string
	}{
		{"file over default", []string{"--config", file}, nil, map[string]string{"listen": "127.0.0.1:3",
			"vms-pool": "file-vms", "max-fetches": "7", "never-download": "true", "allow-pool": `[a,"b,c"]`,
			"hard-depth": "8"}},
		{"env over file", []string{"--config", file}, []string{"COWDISK_NODE_LISTEN=127.0.0.1:2", "COWDISK_NODE_MAX_FETCHES=3"},
			map[string]string{"listen": "127.0.0.1:2", "max-fetches": "3", "vms-pool": "file-vms"}},
		{"flag over env", []string{"--config", file, "--listen", "127.0.0.1:1"}, []string{"COWDISK_NODE_LISTEN=127.0.0.1:2"},
			map[string]string{"listen": "127.0.0.1:1", "images-pool": "file-images"}},
		{"config named by env", nil, []string{"COWDISK_NODE_CONFIG=" + file}, map[string]string{"listen": "127.0.0.1:3"}},
		{"env without file", nil, []string{"COWDISK_NODE_CEPH_USER=cinder", "OTHER_LISTEN=x"},
			map[string]string{"ceph-user": "cinder", "listen": "127.0.0.1:9393"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fs := NodeCommand().Flags()
			if err := fs.Parse(tc.args); err != nil {
				t.Fatal(err)
			}
			if err := applyConfig(fs, nodeEnvPrefix, tc.env); err != nil {
				t.Fatal(err)
			}
			for name, want := range tc.want {
				if got := fs.Lookup(name).Value.String(); got != want {
					t.Errorf("--%s = %s, want %s", name, got, want)
				}
			}
		})
	}
}

// TestConfigRefusals: a typo or a bad value is refused, naming it.
func TestConfigRefusals(t *testing.T) {
	big := writeFile(t, "big.toml", "# "+strings.Repeat("x", maxConfigBytes)+"\n")
	for _, tc := range []struct {
		name, file string
		env        []string
		want       []string
	}{
		{"unknown key", "listen = \"127.0.0.1:1\"\nvm-pool = \"x\"\nmax-fetchs = 2\n", nil, []string{"vm-pool", "max-fetchs", "unknown key"}},
		{"config in config", "config = \"/etc/x.toml\"\n", nil, []string{`"config"`}},
		{"unknown variable", "", []string{"COWDISK_NODE_LISTN=127.0.0.1:1"}, []string{"COWDISK_NODE_LISTN"}},
		{"bad env value", "", []string{"COWDISK_NODE_MAX_FETCHES=many"}, []string{"COWDISK_NODE_MAX_FETCHES", "many"}},
		{"bad file value", "max-fetches = \"many\"\n", nil, []string{`"max-fetches"`, "many"}},
		{"table value", "[listen]\nport = 1\n", nil, []string{`"listen"`, "not a flag value"}},
		{"not toml", "listen = \n", nil, []string{"c.toml", "invalid argument"}},
		{"too big", "@" + big, nil, []string{"larger than"}},
		{"missing file", "@/nonexistent/node.toml", nil, []string{"/nonexistent/node.toml"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path, ok := strings.CutPrefix(tc.file, "@")
			if !ok {
				path = writeFile(t, "c.toml", tc.file)
			}
			fs := NodeCommand().Flags()
			if err := fs.Parse([]string{"--config", path}); err != nil {
				t.Fatal(err)
			}
			err := applyConfig(fs, nodeEnvPrefix, tc.env)
			if err == nil {
				t.Fatal("accepted")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not name %q", err, w)
				}
			}
		})
	}
}

// TestExampleConfigs loads the documented examples through the real
// commands: every key must be a flag and every value valid.
func TestExampleConfigs(t *testing.T) {
	conf := writeFile(t, "ceph.conf", "[global]\n")
	t.Run("images", func(t *testing.T) {
		var got imagesvc.Config
		c := imagesCommand(func(_ context.Context, cfg imagesvc.Config) error { got = cfg; return nil })
		dir := t.TempDir()
		c.SetArgs([]string{"--config", "../../../docs/examples/images.toml", "--data-dir", dir, "--ceph-conf", conf})
		if err := c.Execute(); err != nil {
			t.Fatal(err)
		}
		if got.Store != "rbd" || got.Ceph.User != "glance" || got.RBD.ChunkSize != 8<<20 || got.Auth != "none" ||
			got.Listen != "127.0.0.1:9292" || got.HealthInterval != 5*time.Second {
			t.Errorf("config %+v", got)
		}
	})
	t.Run("node", func(t *testing.T) {
		c := NodeCommand()
		c.RunE = func(*cobra.Command, []string) error { return nil }
		c.SetArgs([]string{"--config", "../../../docs/examples/node.toml"})
		if err := c.Execute(); err != nil {
			t.Fatal(err)
		}
		if v := c.Flags().Lookup("ceph-user").Value.String(); v != "cinder" {
			t.Errorf("ceph-user %q", v)
		}
	})
}

// TestCephConfDefault: with nothing naming a ceph.conf the servers use
// /etc/ceph/ceph.conf, as Ceph's tools do, and a missing one is a clear
// error naming the file instead of retries forever.
func TestCephConfDefault(t *testing.T) {
	t.Setenv("CEPH_CONF", "")
	os.Unsetenv("CEPH_CONF")
	defaultCephConf = writeFile(t, "ceph.conf", "[global]\n")
	defer func() { defaultCephConf = "/etc/ceph/ceph.conf" }()
	cfg, err := cephConn{user: "cinder"}.config()
	if err != nil || cfg.ConfPath != defaultCephConf || cfg.User != "cinder" {
		t.Fatalf("%+v %v", cfg, err)
	}
	defaultCephConf = "/nonexistent/ceph.conf"
	_, err = cephConn{}.config()
	if !errors.Is(err, errs.ErrInvalid) || !strings.Contains(err.Error(), "/nonexistent/ceph.conf") ||
		!strings.Contains(err.Error(), "CEPH_CONF") {
		t.Fatalf("err %v", err)
	}
}
