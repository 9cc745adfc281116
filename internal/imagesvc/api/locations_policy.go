package api

import (
	"github.com/cowdisk/cowdisk/internal/imagesvc/auth"
	"github.com/cowdisk/cowdisk/internal/imagesvc/catalog"
)

// seesLocations decides whether an image's direct_url and locations are
// shown to p. By default only admin and service callers see them
// (OSSN-0065: tenants must not see storage internals). With
// LocationsVisibleToOwner the image's owner project sees them too, for its
// own images only: Zed-era Nova reads locations with the user's token to
// decide whether it can clone.
func (s *Server) seesLocations(p auth.Principal, img catalog.Image) bool {
	if !s.cfg.ShowLocations {
		return false
	}
	return p.SeesLocations() || (s.cfg.LocationsVisibleToOwner && img.Owner == p.Project)
}
