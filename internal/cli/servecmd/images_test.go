package servecmd

import (
	"context"
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
			for k, v := range tc.env {
				t.Setenv(k, v)
			}
			var got imagesvc.Config
			c := imagesCommand(func(_ context.Context, cfg imagesvc.Config) error { got = cfg; return nil })
			c.SetArgs(append([]string{"--data-dir", dir}, tc.args...))
			err := c.Execute()
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
