// Command cowdisk gives virtual machines their boot disks from images in Ceph.
package main

import (
	"os"

	"github.com/cowdisk/cowdisk/internal/cli"
)

func main() { os.Exit(cli.Execute()) }
