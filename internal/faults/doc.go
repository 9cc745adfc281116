// Package faults holds the fault, load and tenant tests of issue 7. They run
// cowdisk's servers as child processes (bin/cowdisk serve images, serve
// node) on a bluestore dev cluster of their own, kill and restart servers
// and Ceph daemons by pid, and check that nothing hangs, leaks or crosses
// tenants.
//
// The tests sit behind the build tag "faults", so plain `go test ./...`
// never runs them; scripts/test-faults.sh (make test-faults, run by make
// test) boots the cluster and runs them:
//
//	go test -tags "pacific faults" ./internal/faults/
//
// with COWDISK_FAULTS_CLUSTER naming the dev cluster directory and
// COWDISK_FAULTS_BIN the cowdisk binary.
//
// One file has no tag: FuzzAgentCreateRequest, a fuzz target for the node
// agent's request decoder that needs no cluster (listed in
// scripts/fuzz-targets.txt).
package faults
