# cowdisk: every target works on a fresh Debian 12 machine as root.
export PATH := /usr/local/go/bin:$(PATH)
TAGS ?= $(shell scripts/ceph-build-tag 2>/dev/null)
GO ?= go
BIN := bin/cowdisk
# The commit goes into `cowdisk version`; "-dirty" marks uncommitted changes.
COMMIT ?= $(shell git rev-parse HEAD 2>/dev/null)$(shell git diff --quiet HEAD 2>/dev/null || echo -dirty)
LDFLAGS := -X github.com/cowdisk/cowdisk/internal/buildinfo.commit=$(COMMIT)

.PHONY: all deps build test test-unit fuzz demo demo-replicas bench test-faults test-interop test-systemd package clean

all: build

deps:
	scripts/install-deps

build: deps
	$(GO) build -tags "$(TAGS)" -ldflags "$(LDFLAGS)" -o $(BIN) ./cmd/cowdisk

# Boots a throwaway cluster, runs every test (and short fuzz runs) against it,
# and tears the cluster down even when tests fail.
test: build
	scripts/test.sh

# Tests that need no cluster, Glance, Keystone or PostgreSQL (-short): a
# quick loop while editing. It boots nothing and says what it left out.
# The binary is built first: packaging/ tests run it.
test-unit: build
	scripts/test-unit.sh

fuzz: build
	scripts/fuzz-short.sh

demo: build
	scripts/demo.sh

# Two image service replicas on one PostgreSQL catalog behind one address.
demo-replicas: build
	scripts/demo-replicas.sh

bench: build
	scripts/bench.sh

# Fault, load and tenant tests: daemons killed and restarted by pid on a
# bluestore dev cluster of their own. `make test` runs them too.
test-faults: build
	scripts/test-faults.sh

# OpenStack's own clients, Nova's code, a real Glance and Keystone against
# cowdisk (internal/interop/..., build tag interop). `make test` runs them too.
test-interop: build
	scripts/test-interop.sh

# The .deb and both units under a real systemd (a throwaway nspawn container
# of this machine's tree), as docs/operations.md section 8 says. `make test`
# runs it too.
test-systemd: build package
	scripts/test-systemd.sh

# The .deb (bin/cowdisk_<version>_<arch>.deb): binary, systemd units,
# example configs, operations guide, alert rules and dashboard. nfpm is
# pinned and comes from the Go module proxy; packaging/ tests check the result.
NFPM := github.com/goreleaser/nfpm/v2/cmd/nfpm@v2.45.2
VERSION ?= $(shell git describe --tags --always 2>/dev/null | sed 's/^v//; s/^\([0-9a-f]\{7,\}\)$$/0.0.0+g\1/')
package: build
	@test -n "$(VERSION)" || { echo "VERSION is empty (not a git checkout?): make package VERSION=x.y.z"; exit 1; }
	@test -e docs/operations.md
	@# One .deb in bin/: the guide installs ./bin/cowdisk_*.deb, which two versions would break.
	rm -f bin/cowdisk_*.deb
	VERSION=$(VERSION) ARCH=$$(dpkg --print-architecture) $(GO) run $(NFPM) package -f packaging/nfpm.yaml -p deb -t bin/

clean:
	rm -rf bin
