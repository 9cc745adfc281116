// Package catalog holds image records (metadata, status, locations) of the
// image service. Catalog is the interface the API uses; SQLite is the default
// implementation, and a shared database can replace it by implementing the
// same few methods.
package catalog

import (
	"context"
	"time"
)

// Image statuses, as Glance names them.
const (
	StatusQueued  = "queued"
	StatusSaving  = "saving"
	StatusActive  = "active"
	StatusKilled  = "killed"
	StatusDeleted = "deleted"
	// StatusDeactivated is an active image switched off by its owner or an
	// admin: its record stays, its data is not served and no new disks are
	// made of it until it is reactivated.
	StatusDeactivated = "deactivated"
	// StatusPendingDelete is an image whose delete has begun: its data is
	// being removed, then its record is marked deleted. A delete cut by a
	// crash is finished by a sweep once its lease has expired.
	StatusPendingDelete = "pending_delete"
)

// Visibilities, as Glance names them.
const (
	Private   = "private"
	Shared    = "shared"
	Community = "community"
	Public    = "public"
)

// Location is where the store keeps an image's data.
type Location struct {
	URL      string            `json:"url"`
	Metadata map[string]string `json:"metadata"`
}

// Image is one catalog record. Nil pointers are "not set" (null in the API).
type Image struct {
	ID              string
	Name            *string
	Status          string
	DiskFormat      *string
	ContainerFormat *string
	Size            *int64
	VirtualSize     *int64
	Checksum        *string // md5 hex
	OSHashAlgo      *string
	OSHashValue     *string
	Owner           string
	Visibility      string
	Protected       bool
	OSHidden        bool // Glance's os_hidden: left out of lists unless asked for
	MinDisk         int
	MinRAM          int
	Tags            []string
	Properties      map[string]string
	Locations       []Location
	CreatedAt       time.Time
	UpdatedAt       time.Time
	// Lease is held by the replica running a long status change on the
	// record (an upload in saving, a delete in pending_delete).
	Lease Lease
	// Version counts the record's updates; Update sets it, and a write
	// whose version is stale is refused, never applied over a newer one.
	Version int64
	// Chunks is written, never read, by Update: an fn that sets it stores
	// the image's chunk list in the same transaction as the record. Get
	// and List leave it nil (a list can be megabytes); Catalog.Chunks
	// reads it.
	Chunks *Chunks
}

// Chunks is an image's chunk list (cowdisk's verified sparse transfer):
// the chunk size and the raw SHA-256 of every chunk, in order.
type Chunks struct {
	ChunkSize int64
	Digests   []byte
	// Spans are the chunks' data spans (chunklist.AppendSpan), hints the
	// binding does not cover; nil for a list recorded without them.
	Spans []byte
}

// Filter selects images for List. Empty strings do not filter.
type Filter struct {
	// Project and Admin describe the caller. Admin sees every image; others
	// see their own images, public ones, and community ones only when they
	// ask for visibility=community (Glance keeps community images out of the
	// default list).
	Project string
	Admin   bool

	Visibility string
	// MemberStatus selects which shared images of other projects the
	// caller lists: pending, accepted (default), rejected or all.
	MemberStatus string
	// Name, Status, Owner and DiskFormat are shorthands for an "eq" Cond.
	Name, Status, Owner, DiskFormat string
	// OSHidden, when set, lists only images whose os_hidden equals it
	// (the API always sets it: Glance lists hidden images only on request).
	OSHidden *bool
	Conds    []Cond
	Tags     []string          // every tag must be present
	Props    map[string]string // custom properties that must equal these values

	// Sort orders the page; empty means created_at desc. SortKey/SortDir
	// are the one-key shorthand. The id is always the final tie-breaker.
	Sort             []Sort
	SortKey, SortDir string
	Marker           string // id of the last image of the previous page
	Limit            int    // >0; default 25
	// MaxBytes, when >0, ends the page early once the records in it hold
	// at least this many bytes (Image.Footprint), so one page of images
	// with large properties cannot take unbounded memory. A page has at
	// least one record.
	MaxBytes int64
}

// Sort is one sort key and its direction (asc or desc).
type Sort struct{ Key, Dir string }

// Cond compares one core field with values. Op is one of CondOps; "in"
// takes any number of values, the others exactly one. Time fields take
// time.Time values and compare at second precision, as the API shows them.
type Cond struct {
	Field  string
	Op     string
	Values []any
}

// CondOps are the comparison operators of Cond (Glance's filter operators).
var CondOps = []string{"eq", "neq", "gt", "gte", "lt", "lte", "in"}

// CondFields are the fields a Cond may name.
var CondFields = []string{"id", "name", "status", "disk_format", "container_format", "owner",
	"size", "virtual_size", "min_disk", "min_ram", "protected", "checksum", "os_hash_algo",
	"os_hash_value", "created_at", "updated_at"}

// SortKeys are the image fields List can sort by.
var SortKeys = []string{"created_at", "updated_at", "name", "id", "status", "size",
	"disk_format", "container_format", "visibility", "min_disk", "min_ram", "owner"}

// Footprint is roughly how many bytes the record takes in memory and in a
// response: its variable-length parts plus a fixed allowance for the rest.
// List's MaxBytes counts it.
func (img Image) Footprint() int64 {
	n := int64(512)
	for k, v := range img.Properties {
		n += int64(len(k) + len(v) + 8)
	}
	for _, t := range img.Tags {
		n += int64(len(t) + 4)
	}
	for _, l := range img.Locations {
		n += int64(len(l.URL) + 16)
		for k, v := range l.Metadata {
			n += int64(len(k) + len(v) + 8)
		}
	}
	if img.Name != nil {
		n += int64(len(*img.Name))
	}
	return n
}

// Catalog stores image records. Implementations must be safe for concurrent use.
type Catalog interface {
	// Create inserts a new record; errs.ErrExists if the id was ever used.
	Create(ctx context.Context, img Image) error
	// Get returns a record, deleted ones included (the API decides what a
	// deleted image means); errs.ErrNotFound if there is none.
	Get(ctx context.Context, id string) (Image, error)
	// List returns one page of non-deleted records; errs.ErrNotFound if the
	// marker is unknown, errs.ErrInvalid for a bad sort key.
	List(ctx context.Context, f Filter) ([]Image, error)
	// Update reads the record, calls fn, and writes the result back in one
	// transaction, so read-check-write sequences (status transitions) are
	// atomic. fn's error aborts the update and is returned as is.
	Update(ctx context.Context, id string, fn func(*Image) error) (Image, error)
	// Chunks returns the chunk list stored with image id; errs.ErrNotFound
	// if it has none. An update that marks the image deleted removes it.
	Chunks(ctx context.Context, id string) (Chunks, error)
	// Usage is the sum of the sizes of owner's images that are not
	// deleted (Glance's user_storage_quota counts the same).
	Usage(ctx context.Context, owner string) (int64, error)
	Members
	Close() error
}

// Member statuses, as Glance names them: the owner shares an image
// (pending), the consumer project accepts or rejects it.
const (
	MemberPending  = "pending"
	MemberAccepted = "accepted"
	MemberRejected = "rejected"
)

// Member is one project an image is shared with.
type Member struct {
	ImageID, Project, Status string
	CreatedAt, UpdatedAt     time.Time
}

// Members keeps who a shared image is shared with.
type Members interface {
	// AddMember adds a pending member; errs.ErrExists if it is one already.
	AddMember(ctx context.Context, imageID, project string) (Member, error)
	// Member returns one membership; errs.ErrNotFound if there is none.
	Member(ctx context.Context, imageID, project string) (Member, error)
	ListMembers(ctx context.Context, imageID string) ([]Member, error)
	SetMemberStatus(ctx context.Context, imageID, project, status string) (Member, error)
	// RemoveMember removes one membership; errs.ErrNotFound if there is none.
	RemoveMember(ctx context.Context, imageID, project string) error
}
