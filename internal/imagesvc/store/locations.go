package store

import "context"

// LocationChecker is implemented by stores that accept a location set
// through the API (Nova's direct snapshot and Cinder's upload-to-image
// write the data themselves, then add its location). CheckLocation
// answers the size of the data at location when location is exactly what
// the store itself would have written for image id and the data exists;
// otherwise an error wrapping errs.ErrBadLocation. Stores without it
// accept no locations.
type LocationChecker interface {
	CheckLocation(ctx context.Context, id, location string) (size int64, err error)
}
