package servecmd

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/cowdisk/cowdisk/internal/imagesvc"
)

func TestImportFlags(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		name string
		env  map[string]string
		args []string
		want func(imagesvc.ImportConfig) bool
		err  string
	}{
		{"defaults: glance-direct in the data dir, web-download off, locations to admin/service", nil, nil,
			func(c imagesvc.ImportConfig) bool {
				return c.StagingDir == dir+"/staging" && len(c.WebDownloadAllow) == 0 && !c.LocationsVisibleToOwner
			}, ""},
		{"flags and env", map[string]string{"COWDISK_IMAGES_WEB_DOWNLOAD_ALLOW": "https:,mirror.example.org"},
			[]string{"--web-download-timeout", "5m", "--locations-visible-to", "owner", "--glance-direct=false"},
			func(c imagesvc.ImportConfig) bool {
				return c.StagingDir == "" && slices.Equal(c.WebDownloadAllow, []string{"https:", "mirror.example.org"}) &&
					c.WebDownloadTimeout == 5*time.Minute && c.LocationsVisibleToOwner
			}, ""},
		{"bad policy", nil, []string{"--locations-visible-to", "everyone"}, nil, "locations-visible-to"},
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
			if err != nil || !tc.want(got.Import) {
				t.Fatalf("%v %+v", err, got.Import)
			}
		})
	}
}
