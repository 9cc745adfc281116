package ceph

import (
	"crypto/rand"
	"encoding/hex"
	"strings"
)

// Every temporary name in a pool is spelled here. A temporary is an image
// still being made: it is renamed into place only when complete, so a
// half-made image can never become a clone parent or be mistaken for a
// finished one, and a crash leaves only names the reapers recognise.
//
//	<final>.tmp-<hex>          OpenWriter's and Import's own staging
//	<final>.tmp-<owner>-<hex>  StageName: a node's staged disk or base
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

// tempName returns a fresh temporary name for name.
func tempName(name string) string {
	var b [6]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails (Go 1.24+)
	return name + tempMarker + hex.EncodeToString(b[:])
}

// StageName returns a fresh temporary name for final that says which owner
// (a node: letters and digits) made it, so an owner reaping its leftovers
// in a shared pool never takes another's work (StagedBy).
func StageName(final, owner string) string {
	var b [4]byte
	_, _ = rand.Read(b[:])
	return final + stageMarker(owner) + hex.EncodeToString(b[:])
}

// StagedBy tells whether name is a temporary StageName made for owner.
func StagedBy(name, owner string) bool { return strings.Contains(name, stageMarker(owner)) }

func stageMarker(owner string) string { return tempMarker + owner + "-" }

// ClaimName is the one name every owner races to create before publishing
// final. Its owner part is empty, so no owner's reaping takes it for its
// own; it lives for the milliseconds of a rename.
func ClaimName(final string) string { return final + stageMarker("") + "claim" }
