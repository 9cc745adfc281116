// Package packaging holds no code: its tests check what an operator
// installs and runs — the systemd units (systemd-analyze verify), the alert
// rules (promtool), the .deb (dpkg-deb) and the built binary's two servers
// against a dev cluster the tests boot themselves (configuration, health,
// Ceph users with the documented caps).
package packaging
