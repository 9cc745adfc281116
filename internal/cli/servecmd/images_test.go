package servecmd

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/cowdisk/cowdisk/internal/imagesvc"
	"github.com/cowdisk/cowdisk/internal/imagesvc/api"
)

func TestImagesConfig(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		name string
		env  map[string]string
		args []string
		want func(imagesvc.Config) bool
		err  string
	}{
		{"env fills unset flags, flags win", map[string]string{"COWDISK_IMAGES_RBD_POOL": "glance",
			"COWDISK_IMAGES_RBD_CHUNK_SIZE": "4MiB", "COWDISK_IMAGES_LISTEN": "127.0.0.1:1"},
			[]string{"--listen", "127.0.0.1:2", "--rbd-features", "layering,exclusive-lock"},
			func(c imagesvc.Config) bool {
				return c.RBD.Pool == "glance" && c.RBD.ChunkSize == 4<<20 && c.Listen == "127.0.0.1:2" &&
					c.RBD.Features == 5 && c.RBD.ProtectSnapshot && c.MaxImageSize == 1<<40 &&
					c.DB == dir+"/catalog.db" && c.FileDir == dir+"/images"
			}, ""},
		{"ceph timeouts from flags and env", map[string]string{"COWDISK_IMAGES_CEPH_OSD_TIMEOUT": "5s"},
			[]string{"--ceph-mon-timeout", "3s"},
			func(c imagesvc.Config) bool {
				return c.Ceph.MountTimeout == 10*time.Second && c.Ceph.MonOpTimeout == 3*time.Second &&
					c.Ceph.OSDOpTimeout == 5*time.Second
			}, ""},
		{"bad env value", map[string]string{"COWDISK_IMAGES_RBD_WORKERS": "many"}, nil, nil, "COWDISK_IMAGES_RBD_WORKERS"},
		{"import defaults: glance-direct in the data dir, web-download off, locations to admin/service", nil, nil,
			func(c imagesvc.Config) bool {
				return c.Import.StagingDir == dir+"/staging" && len(c.Import.WebDownloadAllow) == 0 &&
					!c.Import.LocationsVisibleToOwner
			}, ""},
		{"import flags and env", map[string]string{"COWDISK_IMAGES_WEB_DOWNLOAD_ALLOW": "https:,mirror.example.org"},
			[]string{"--web-download-timeout", "5m", "--locations-visible-to", "owner", "--glance-direct=false"},
			func(c imagesvc.Config) bool {
				return c.Import.StagingDir == "" && c.Import.WebDownloadTimeout == 5*time.Minute &&
					slices.Equal(c.Import.WebDownloadAllow, []string{"https:", "mirror.example.org"}) &&
					c.Import.LocationsVisibleToOwner
			}, ""},
		{"bad location policy", nil, []string{"--locations-visible-to", "everyone"}, nil, "locations-visible-to"},
		{"unknown feature", nil, []string{"--rbd-features", "layering,turbo"}, nil, "turbo"},
		{"layering required", nil, []string{"--rbd-features", "exclusive-lock"}, nil, "layering"},
		{"bad size", nil, []string{"--max-image-size", "lots"}, nil, "max-image-size"},
		{"limits default to Glance's", nil, nil, func(c imagesvc.Config) bool {
			return c.Limits == api.DefaultLimits
		}, ""},
		{"limits from flags and env", map[string]string{"COWDISK_IMAGES_USER_STORAGE_QUOTA": "2GiB"},
			[]string{"--image-property-quota", "16", "--list-max-page-bytes", "1MiB", "--max-property-value-size", "4096"},
			func(c imagesvc.Config) bool {
				return c.Limits.UserStorageQuota == 2<<30 && c.Limits.MaxProperties == 16 &&
					c.Limits.MaxPageBytes == 1<<20 && c.Limits.MaxValueLen == 4096 && c.Limits.MaxTags == 128
			}, ""},
		{"zero property quota", nil, []string{"--image-property-quota", "0"}, nil, "image-property-quota"},
		{"zero page bytes", nil, []string{"--list-max-page-bytes", "0"}, nil, "list-max-page-bytes"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := runImages(t, tc.env, append([]string{"--data-dir", dir}, tc.args...))
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("err %v, want one mentioning %q", err, tc.err)
				}
				return
			}
			if err != nil || !tc.want(got) {
				t.Fatalf("%v %+v", err, got)
			}
		})
	}
}

// runImages runs `serve images` with env and args and returns the config
// it would have started with.
func runImages(t *testing.T, env map[string]string, args []string) (imagesvc.Config, error) {
	t.Helper()
	for k, v := range env {
		t.Setenv(k, v)
	}
	var got imagesvc.Config
	c := imagesCommand(func(_ context.Context, cfg imagesvc.Config) error { got = cfg; return nil })
	c.SetArgs(args)
	return got, c.Execute()
}
