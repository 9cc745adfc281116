package imagecmd

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/cowdisk/cowdisk/internal/errs"
	"github.com/cowdisk/cowdisk/internal/imageclient"
)

// maxCandidates bounds the name lookup: a name shared by more images than
// this is ambiguous anyway, and the list stays readable.
const maxCandidates = 10

// resolve connects and finds the image a command names.
func (o *options) resolve(cmd *cobra.Command, idOrName string) (imageclient.Client, imageclient.Image, error) {
	cl, err := o.client(cmd.Context())
	if err != nil {
		return nil, imageclient.Image{}, err
	}
	img, err := resolve(cmd.Context(), cl, idOrName)
	return cl, img, err
}

// resolve turns an id or a unique name into an image. An id wins; a name
// shared by several images is refused with the candidates listed.
func resolve(ctx context.Context, cl imageclient.Client, idOrName string) (imageclient.Image, error) {
	img, err := cl.Get(ctx, idOrName)
	if !errors.Is(err, errs.ErrNotFound) {
		return img, err
	}
	imgs, lerr := cl.List(ctx, imageclient.ListOptions{Name: idOrName, Max: maxCandidates + 1})
	if lerr != nil {
		return imageclient.Image{}, errors.Join(err, lerr)
	}
	switch len(imgs) {
	case 0:
		return imageclient.Image{}, fmt.Errorf("no image has the id or name %q: %w", idOrName, errs.ErrNotFound)
	case 1:
		return imgs[0], nil
	}
	return imageclient.Image{}, fmt.Errorf("%d images are named %q, use an id: %s: %w",
		len(imgs), idOrName, candidates(imgs), errs.ErrConflict)
}

func candidates(imgs []imageclient.Image) string {
	var b strings.Builder
	for i, img := range imgs {
		if i == maxCandidates {
			b.WriteString(", ...")
			break
		}
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "%s (%s, created %s)", img.ID, img.Status, img.CreatedAt.Format("2006-01-02 15:04"))
	}
	return b.String()
}
