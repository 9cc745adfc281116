package servecmd

import (
	"errors"
	"runtime/debug"
	"strings"
	"testing"

	"github.com/cowdisk/cowdisk/internal/errs"
	"github.com/cowdisk/cowdisk/internal/provisioner"
)

// TestNodeMaxMemory: --max-memory comes from the command line, the
// environment or the config file like every flag; it sizes the writers of
// both fallback paths and sets Go's memory limit; a bound too small to work
// with is refused before anything starts, naming the flag and what fits.
func TestNodeMaxMemory(t *testing.T) {
	defer debug.SetMemoryLimit(debug.SetMemoryLimit(-1)) // restore whatever the test process had
	file := writeFile(t, "node.toml", "max-memory = \"120MiB\"\nmax-fetches = 2\n")
	for _, tc := range []struct {
		name        string
		args, env   []string
		wantWorkers int
		wantErr     string
	}{
		{"unset: the default writers, limited", nil, nil, provisioner.DefaultFetchWorkers, ""},
		{"unset, more fetches: still the default writers", []string{"--max-fetches", "8"}, nil, provisioner.DefaultFetchWorkers, ""},
		{"flag", []string{"--max-memory", "1GiB"}, nil, provisioner.DefaultFetchWorkers, ""},
		{"environment", nil, []string{"COWDISK_NODE_MAX_MEMORY=130MiB"}, 2, ""},
		{"config file", []string{"--config", file}, nil, 2, ""},
		{"fewer fetches, more writers", []string{"--config", file, "--max-fetches", "1"}, nil, 4, ""},
		{"too small", []string{"--max-memory", "64MiB"}, nil, 0, "--max-memory 64 MiB"},
		{"too small for the fetches", []string{"--max-memory", "120MiB", "--max-fetches", "4"}, nil, 0, "lower --max-fetches"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			debug.SetMemoryLimit(1 << 62)
			c := NodeCommand()
			fs := c.Flags()
			if err := fs.Parse(tc.args); err != nil {
				t.Fatal(err)
			}
			if err := applyConfig(fs, nodeEnvPrefix, tc.env); err != nil {
				t.Fatal(err)
			}
			// The command's own options live in its closure; read the
			// parsed values the way RunE hands them on.
			var o nodeOptions
			o.rbd.MaxFetches, _ = fs.GetInt("max-fetches")
			if err := o.memory.max.Set(fs.Lookup("max-memory").Value.String()); err != nil && fs.Lookup("max-memory").Changed {
				t.Fatal(err)
			}
			err := o.memory.apply(&o.rbd)
			if tc.wantErr != "" {
				if !errors.Is(err, errs.ErrInvalid) || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("apply = %v, want ErrInvalid saying %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			limit := debug.SetMemoryLimit(-1)
			if o.rbd.ImportWorkers != tc.wantWorkers || o.rbd.Convert.Workers != tc.wantWorkers {
				t.Errorf("writers: import %d, convert %d; want %d", o.rbd.ImportWorkers, o.rbd.Convert.Workers, tc.wantWorkers)
			}
			max := uint64(o.memory.max.byteSize)
			if max == 0 {
				max = provisioner.DefaultMaxMemory(o.rbd.MaxFetches, 4<<20)
			}
			if limit <= 0 || uint64(limit) >= max {
				t.Errorf("Go memory limit %d, want below the bound %d", limit, max)
			}
		})
	}
}

// TestNodeRefusesTinyMaxMemory: the whole command refuses before it
// listens or connects.
func TestNodeRefusesTinyMaxMemory(t *testing.T) {
	c := NodeCommand()
	c.SetArgs([]string{"--max-memory", "80MiB", "--listen", "127.0.0.1:0", "--ceph-conf", "/nonexistent/ceph.conf"})
	c.SilenceUsage, c.SilenceErrors = true, true
	err := c.Execute()
	if !errors.Is(err, errs.ErrInvalid) || !strings.Contains(err.Error(), "--max-memory 80 MiB") || !strings.Contains(err.Error(), "104 MiB") {
		t.Fatalf("serve node --max-memory 80MiB = %v, want a refusal naming the flag and the 104 MiB two fetches need", err)
	}
}

// TestNodeMemoryLeavesGOMEMLIMIT: without --max-memory, a GOMEMLIMIT the
// operator set in the environment stays Go's (the writers are still sized).
func TestNodeMemoryLeavesGOMEMLIMIT(t *testing.T) {
	defer debug.SetMemoryLimit(debug.SetMemoryLimit(-1))
	t.Setenv("GOMEMLIMIT", "1GiB")
	debug.SetMemoryLimit(1 << 30) // what the runtime read from it at start
	var o nodeOptions
	if err := o.memory.apply(&o.rbd); err != nil {
		t.Fatal(err)
	}
	if got := debug.SetMemoryLimit(-1); got != 1<<30 || o.rbd.ImportWorkers != provisioner.DefaultFetchWorkers {
		t.Fatalf("limit %d, writers %d; want GOMEMLIMIT's 1 GiB kept and %d writers", got, o.rbd.ImportWorkers, provisioner.DefaultFetchWorkers)
	}
	// An explicit --max-memory wins over the environment.
	if err := o.memory.max.Set("150MiB"); err != nil {
		t.Fatal(err)
	}
	if err := o.memory.apply(&o.rbd); err != nil {
		t.Fatal(err)
	}
	if got := debug.SetMemoryLimit(-1); got >= 150<<20 {
		t.Fatalf("limit %d with --max-memory 150MiB", got)
	}
}
