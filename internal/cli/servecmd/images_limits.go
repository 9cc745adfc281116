package servecmd

import (
	"fmt"
	"strconv"

	"github.com/dustin/go-humanize"
	"github.com/spf13/pflag"

	"github.com/cowdisk/cowdisk/internal/imagesvc/api"
)

// registerLimitFlags adds the image service's quotas and list bounds
// (Glance's option names in the help) to f, writing into l.
func registerLimitFlags(f *pflag.FlagSet, l *api.Limits) {
	*l = api.DefaultLimits
	f.Var(count{&l.MaxProperties}, "image-property-quota", "custom properties per image (Glance image_property_quota)")
	f.Var(count{&l.MaxTags}, "image-tag-quota", "tags per image (Glance image_tag_quota)")
	f.Var(count{&l.MaxKeyLen}, "max-property-key-size", "bytes of a property name")
	f.Var(count{&l.MaxValueLen}, "max-property-value-size", "bytes of a property value")
	f.Var(count{&l.DefaultPageSize}, "list-default-limit", "images per list page when the client names no limit (limit_param_default)")
	f.Var(count{&l.MaxPageSize}, "list-max-limit", "images per list page at most (api_limit_max)")
	f.Var(size{&l.MaxPageBytes, false}, "list-max-page-bytes", "a list page ends early once its images hold this many bytes of metadata")
	f.Var(size{&l.UserStorageQuota, true}, "user-storage-quota",
		"image bytes one project may store, uploads in progress included (Glance user_storage_quota; 0: none)")
}

// count is a flag of a positive int.
type count struct{ p *int }

func (c count) String() string {
	if c.p == nil {
		return "0"
	}
	return strconv.Itoa(*c.p)
}

func (c count) Set(s string) error {
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 {
		return fmt.Errorf("%q: want a positive integer", s)
	}
	*c.p = n
	return nil
}

func (count) Type() string { return "int" }

// size is a flag of a byte count such as 8MiB; zero only where it means
// "no limit".
type size struct {
	p         *int64
	zeroIsOff bool
}

func (s size) String() string {
	if s.p == nil || *s.p == 0 {
		return "0"
	}
	return humanize.IBytes(uint64(*s.p))
}

func (s size) Set(v string) error {
	n, err := humanize.ParseBytes(v)
	if err != nil || n > 1<<62 || (n == 0 && !s.zeroIsOff) {
		return fmt.Errorf("%q: want a size such as 8MiB", v)
	}
	*s.p = int64(n)
	return nil
}

func (size) Type() string { return "bytes" }
