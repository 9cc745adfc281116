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

// CallerSource reads an image for a disk as the caller (the caller's own
// token, forwarded to the image service), so a project boots exactly the
// images it could download itself, whatever the image service's visibility
// and membership rules are (cowdisk's, or Glance's policy with Keystone);
// and with the agent's own service credentials, the only ones shown the
// image's locations, to decide clone or download. Both answers must be the
// image asked for: an image service that answers another image is not
// trusted.
//
// The caller's read is made on every create: it is what honours
// deactivation, deletion and a revoked membership at once. The service's
// read is the one saved: its record is cached (recordCache) and reused
// while the caller's read shows the image unchanged, and when it must be
// made it runs alongside the caller's rather than after it.
//
// A request without a caller token (auth none, or the library used
// directly) is read with the service credentials only, never cached.
type CallerSource struct {
	Service  provisioner.ImageSource
	AsCaller func(token string) (provisioner.ImageSource, error)
	// records caches service records; nil caches nothing.
	records *recordCache
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
		records: &recordCache{},
	}, nil
}

// Image implements provisioner.ImageSource.
func (s CallerSource) Image(ctx context.Context, id string) (provisioner.Image, error) {
	c, ok := callerFrom(ctx)
	if !ok || c.token == "" || s.AsCaller == nil {
		return s.serviceRead(ctx, id)
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel() // stops a service read no longer needed
	var svc <-chan readResult
	if !s.records.has(id) {
		svc = s.startServiceRead(ctx, id)
	}
	seen, err := s.callerRead(ctx, c, id)
	if err != nil {
		return provisioner.Image{}, err
	}
	if img, ok := s.records.get(seen); ok {
		return img, nil
	}
	if svc == nil { // the cached record is stale
		svc = s.startServiceRead(ctx, id)
	}
	r := <-svc
	if r.err != nil {
		return provisioner.Image{}, r.err
	}
	s.records.put(r.img, seen)
	return r.img, nil
}

type readResult struct {
	img provisioner.Image
	err error
}

func (s CallerSource) startServiceRead(ctx context.Context, id string) <-chan readResult {
	ch := make(chan readResult, 1) // never blocks: the reader may have gone
	go func() {
		img, err := s.serviceRead(ctx, id)
		ch <- readResult{img, err}
	}()
	return ch
}

func (s CallerSource) serviceRead(ctx context.Context, id string) (provisioner.Image, error) {
	img, err := s.Service.Image(ctx, id)
	if err != nil {
		return provisioner.Image{}, err
	}
	if img.ID != id {
		return provisioner.Image{}, fmt.Errorf("asked for image %q, the image service answered image %q", id, img.ID)
	}
	return img, nil
}

// callerRead reads the record with the caller's token. An image the
// caller may not read is not found, whether the service said 404 or 403.
func (s CallerSource) callerRead(ctx context.Context, c caller, id string) (provisioner.Image, error) {
	src, err := s.AsCaller(c.token)
	if err != nil {
		return provisioner.Image{}, err
	}
	img, err := src.Image(ctx, id)
	if errors.Is(err, errs.ErrPermission) || errors.Is(err, errs.ErrNotFound) {
		s.records.drop(id)
		return provisioner.Image{}, fmt.Errorf("image %s is not visible to project %q: %w", id, c.p.Project, errs.ErrNotFound)
	}
	if err != nil {
		return provisioner.Image{}, err
	}
	if img.ID != id {
		return provisioner.Image{}, fmt.Errorf("asked for image %q as the caller, the image service answered image %q", id, img.ID)
	}
	return img, nil
}

// Download implements provisioner.ImageSource with the service credentials;
// Image has checked the caller first.
func (s CallerSource) Download(ctx context.Context, id string) (io.ReadCloser, error) {
	return s.Service.Download(ctx, id)
}
