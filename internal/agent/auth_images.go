package agent

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/cowdisk/cowdisk/internal/errs"
	"github.com/cowdisk/cowdisk/internal/imageclient"
	"github.com/cowdisk/cowdisk/internal/provisioner"
)

// CallerSource reads an image for a disk twice: its record as the caller
// (the caller's own token, forwarded to the image service), so a project
// boots exactly the images it could download itself, whatever the image
// service's visibility and membership rules are (cowdisk's, or Glance's
// policy with Keystone); and then with the agent's own service credentials,
// the only ones shown the image's locations, to decide clone or download.
// Both answers must be the image asked for: an image service that answers
// another image is not trusted.
//
// A request without a caller token (auth none, or the library used
// directly) is read with the service credentials only.
type CallerSource struct {
	Service  provisioner.ImageSource
	AsCaller func(token string) (provisioner.ImageSource, error)
}

// NewCallerSource reads images with svc, the agent's own client (a fixed
// service token or Keystone credentials), and with each caller's token at
// the same endpoint for the caller, with options o.
func NewCallerSource(svc imageclient.Client, o imageclient.Options) (CallerSource, error) {
	if o.UserAgent == "" {
		o.UserAgent = "cowdisk-node"
	}
	endpoint := imageclient.EndpointOf(svc)
	return CallerSource{
		Service: provisioner.ClientSource{Client: svc},
		AsCaller: func(token string) (provisioner.ImageSource, error) {
			c, err := imageclient.New(endpoint, token, o)
			return provisioner.ClientSource{Client: c}, err
		},
	}, nil
}

// Image implements provisioner.ImageSource.
func (s CallerSource) Image(ctx context.Context, id string) (provisioner.Image, error) {
	if c, ok := callerFrom(ctx); ok && c.token != "" && s.AsCaller != nil {
		if err := s.callerMaySee(ctx, c, id); err != nil {
			return provisioner.Image{}, err
		}
	}
	img, err := s.Service.Image(ctx, id)
	if err != nil {
		return provisioner.Image{}, err
	}
	if img.ID != id {
		return provisioner.Image{}, fmt.Errorf("asked for image %q, the image service answered image %q", id, img.ID)
	}
	return img, nil
}

// callerMaySee reads the record with the caller's token. An image the
// caller may not read is not found, whether the service said 404 or 403.
func (s CallerSource) callerMaySee(ctx context.Context, c caller, id string) error {
	src, err := s.AsCaller(c.token)
	if err != nil {
		return err
	}
	img, err := src.Image(ctx, id)
	if errors.Is(err, errs.ErrPermission) || errors.Is(err, errs.ErrNotFound) {
		return fmt.Errorf("image %s is not visible to project %q: %w", id, c.p.Project, errs.ErrNotFound)
	}
	if err != nil {
		return err
	}
	if img.ID != id {
		return fmt.Errorf("asked for image %q as the caller, the image service answered image %q", id, img.ID)
	}
	return nil
}

// Download implements provisioner.ImageSource with the service credentials;
// Image has checked the caller first.
func (s CallerSource) Download(ctx context.Context, id string) (io.ReadCloser, error) {
	return s.Service.Download(ctx, id)
}
