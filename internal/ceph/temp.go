package ceph

import (
	"crypto/rand"
	"encoding/hex"
	"strings"
)

// Every temporary name in a pool is spelled here. A temporary is an image
// still being made: it is renamed into place (Publish) only when complete,
// so a half-made image can never become a clone parent or be mistaken for a
// finished one. A name is never reaped for its spelling: owners record what
// they stage (journal.go) and reap only that.
//
//	<final>.tmp-<hex>          TempName: the RBD store's upload staging
//	<final>.tmp-<owner>-<hex>  Stage: a node's staged disk or base
//	<final>.tmp--claim         ClaimName: the exclusive publish of a base
const tempMarker = ".tmp-"

// IsTemp reports whether name is a temporary name.
func IsTemp(name string) bool { return strings.Contains(name, tempMarker) }

// FinalName is the name a temporary stands for (name itself when it is
// none).
func FinalName(name string) string {
	final, _, _ := strings.Cut(name, tempMarker)
	return final
}

// TempName returns a fresh temporary name for name (the RBD store's
// uploads, found after a crash by their image ids in the catalog).
func TempName(name string) string {
	var b [6]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails (Go 1.24+)
	return name + tempMarker + hex.EncodeToString(b[:])
}

// StageName returns a fresh temporary name for final that says which owner
// (a node: letters and digits) made it, for people reading a listing; Stage
// records it, and only the record makes it the owner's to reap.
func StageName(final, owner string) string {
	var b [4]byte
	_, _ = rand.Read(b[:])
	return final + stageMarker(owner) + hex.EncodeToString(b[:])
}

func stageMarker(owner string) string { return tempMarker + owner + "-" }

// ClaimName is the one name every owner races to create before publishing
// final. Its owner part is empty, so no owner's reaping takes it for its
// own; it lives for the milliseconds of a rename.
func ClaimName(final string) string { return final + stageMarker("") + "claim" }
