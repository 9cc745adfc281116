// Package agent is the node agent: an HTTP JSON API around a provisioner
// backend, with Prometheus metrics and slog logs. It is the only place that
// turns provisioning errors into HTTP status codes. Client is the same API
// from the caller's side, used by the CLI.
package agent

import "github.com/cowdisk/cowdisk/internal/provisioner"

// DefaultAddr is where `cowdisk serve node` listens: loopback only, since
// its default --auth none makes every caller admin.
const DefaultAddr = "127.0.0.1:9393"

// CreateRequest is the body of POST /v1/disks.
type CreateRequest struct {
	InstanceID string `json:"instance_id"`
	Name       string `json:"name,omitempty"`
	ImageID    string `json:"image_id"`
	SizeBytes  uint64 `json:"size_bytes,omitempty"`
}

// ResizeRequest is the body of POST /v1/disks/{instance_id}/{name}/resize.
type ResizeRequest struct {
	SizeBytes uint64 `json:"size_bytes"`
}

// Disk is a disk as the API shows it.
type Disk struct {
	InstanceID string   `json:"instance_id"`
	Name       string   `json:"name"`
	Pool       string   `json:"pool"`
	Image      string   `json:"image"`
	SizeBytes  uint64   `json:"size_bytes"`
	ImageID    string   `json:"image_id"`
	Method     string   `json:"method"`
	Parent     string   `json:"parent"`
	Reasons    []string `json:"reasons"`
	ElapsedMS  int64    `json:"elapsed_ms"`
	// Owner is the project the disk belongs to ("" for a disk made before
	// owners were recorded: admin and service callers only).
	Owner string `json:"owner"`
}

func diskJSON(d provisioner.Disk) Disk {
	reasons := d.Reasons
	if reasons == nil {
		reasons = []string{}
	}
	return Disk{
		InstanceID: d.InstanceID, Name: d.Name, Pool: d.Pool, Image: d.Image, SizeBytes: d.SizeBytes,
		ImageID: d.ImageID, Method: string(d.Method), Parent: d.Parent, Reasons: reasons,
		ElapsedMS: d.Elapsed.Milliseconds(), Owner: d.Owner,
	}
}

// Base is a cached base image (GET /v1/cache).
type Base struct {
	ImageID   string   `json:"image_id"`
	Pool      string   `json:"pool"`
	Image     string   `json:"image"`
	Snapshot  string   `json:"snapshot"`
	SizeBytes uint64   `json:"size_bytes"`
	Children  []string `json:"children"`
	CreatedAt string   `json:"created_at,omitempty"` // RFC 3339, when the store can tell
}

// PruneResult is the answer of POST /v1/cache/prune.
type PruneResult struct {
	Removed []string `json:"removed"` // with dry_run: what would be removed
	DryRun  bool     `json:"dry_run"`
}

// Stats are the byte counters (GET /v1/stats), for progress display.
type Stats struct {
	Downloads       int64 `json:"downloads"`
	BytesDownloaded int64 `json:"bytes_downloaded"`
	BytesToDownload int64 `json:"bytes_to_download"` // declared sizes of the downloads started
	Conversions     int64 `json:"conversions"`
	BytesWritten    int64 `json:"bytes_written"`
	BytesToConvert  int64 `json:"bytes_to_convert"` // virtual sizes of the conversions started
	BytesConverted  int64 `json:"bytes_converted"`  // how far they have got
}

// ErrorBody is every error answer: {"error":{"code","message"}}.
type ErrorBody struct {
	Error ErrorDetail `json:"error"`
}

// ErrorDetail names the error class and says what happened.
type ErrorDetail struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}
