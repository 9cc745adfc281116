package bench

// The command lines of the servers, in one place: they are the operator's
// view of cowdisk, and the only thing here that must follow the servers'
// flags when those change.

// imagesArgs runs the image service on addr with the RBD store in the images
// pool, no auth (loopback), and locations shown so nodes can clone.
func imagesArgs(cfg Config, addr, dir string) []string {
	args := []string{"serve", "images",
		"--listen", addr,
		"--data-dir", dir,
		"--store", "rbd",
		"--rbd-pool", cfg.ImagesPool,
		"--auth", "none",
		"--show-locations",
	}
	if cfg.ImagesChunkSize != "" {
		args = append(args, "--rbd-chunk-size", cfg.ImagesChunkSize)
	}
	return args
}

// nodeArgs runs a node agent on addr. A node that is not trusting gets an
// allow-list no location can pass, so every image takes the fallback, as an
// image from a foreign store would.
func nodeArgs(cfg Config, addr, imagesURL, name, dir string, trusting bool) []string {
	args := []string{"serve", "node",
		"--listen", addr,
		"--image-service", imagesURL,
		"--images-pool", cfg.ImagesPool,
		"--vms-pool", cfg.VMsPool,
		"--node", name, // letters and digits only
		"--temp-dir", dir,
	}
	if !trusting {
		args = append(args, "--allow-pool", "none-trusted")
	}
	return args
}
