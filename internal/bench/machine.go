package bench

import (
	"bufio"
	"context"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"

	"github.com/cowdisk/cowdisk/internal/bench/report"
)

// machine describes where the run happens; the numbers mean little without
// it (a 2-core VM and a 32-core host differ by more than any target).
func machine(ctx context.Context, objectStore string) report.Machine {
	m := report.Machine{CPUs: runtime.NumCPU(), Go: runtime.Version(), ObjectStore: objectStore}
	if b, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
		m.Kernel = strings.TrimSpace(string(b))
	}
	m.MemoryBytes = memTotal()
	m.Ceph = cephVersion(ctx)
	return m
}

func memTotal() uint64 {
	f, err := os.Open("/proc/meminfo")
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "MemTotal:"); ok {
			kb, _ := strconv.ParseUint(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			return kb << 10
		}
	}
	return 0
}

// cephVersion asks the installed client ("ceph version 16.2.15 (...) pacific
// (stable)") and keeps the number and release name.
func cephVersion(ctx context.Context) string {
	out, err := exec.CommandContext(ctx, "ceph", "--version").Output()
	if err != nil {
		return "unknown"
	}
	f := strings.Fields(string(out))
	if len(f) >= 5 && f[0] == "ceph" && f[1] == "version" {
		return f[2] + " " + f[4]
	}
	return strings.TrimSpace(string(out))
}
