package imagecmd

import (
	"crypto/md5"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"

	"github.com/cowdisk/cowdisk/internal/cli/clierr"
	"github.com/cowdisk/cowdisk/internal/errs"
	"github.com/cowdisk/cowdisk/internal/imageclient"
)

func downloadCmd(o *options) *cobra.Command {
	var out string
	c := &cobra.Command{
		Use:   "download ID|NAME",
		Short: "Download image data (sparse) and check it against the image's md5",
		Example: `  cowdisk image download debian-13 -o debian-13.qcow2
  cowdisk image download 3f0c2b6e-... -o - | qemu-img info /dev/stdin`,
		Args:        cobra.ExactArgs(1),
		Annotations: map[string]string{clierr.Long: ""},
		RunE: func(cmd *cobra.Command, args []string) error {
			cl, img, err := o.resolve(cmd, args[0])
			if err != nil {
				return err
			}
			return o.download(cmd, cl, img, out)
		},
	}
	c.Flags().StringVarP(&out, "output", "o", "", "file to write (- for stdout; default: the image id)")
	return c
}

// download writes to a temporary file renamed into place only after the
// checksum matched, so a cut or corrupt download never looks complete.
func (o *options) download(cmd *cobra.Command, cl imageclient.Client, img imageclient.Image, out string) (err error) {
	body, err := cl.Download(cmd.Context(), img.ID)
	if err != nil {
		return err
	}
	defer body.Close()
	if out == "" {
		out = img.ID
	}
	if out == "-" {
		return o.copyChecked(cmd, img, cmd.OutOrStdout(), body)
	}
	tmp, err := createPart(out)
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	sw := &sparseWriter{f: tmp}
	if err = o.copyChecked(cmd, img, sw, body); err != nil {
		return err
	}
	if err = sw.finish(); err != nil {
		return err
	}
	if err = tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), out)
}

// createPart makes the temporary file next to out with mode 0644 less the
// umask, as any downloaded file (os.CreateTemp would make it 0600).
func createPart(out string) (*os.File, error) {
	name := filepath.Join(filepath.Dir(out), fmt.Sprintf(".%s.part-%d", filepath.Base(out), time.Now().UnixNano()))
	return os.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
}

// copyChecked copies the image data to w and checks its md5.
func (o *options) copyChecked(cmd *cobra.Command, img imageclient.Image, w io.Writer, body io.Reader) error {
	p := o.newProgress(cmd.ErrOrStderr(), "download", img.Size)
	sum := md5.New()
	_, err := io.Copy(io.MultiWriter(w, sum), p.reader(body))
	p.done()
	if err != nil {
		return fmt.Errorf("download image %s: %w", img.ID, err)
	}
	if got := hex.EncodeToString(sum.Sum(nil)); img.Checksum != "" && got != img.Checksum {
		return fmt.Errorf("download image %s: md5 %s, image says %s: %w", img.ID, got, img.Checksum, errs.ErrChecksum)
	}
	return nil
}
