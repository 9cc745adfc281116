package cli

import "github.com/spf13/cobra"

// examples fill the --help of commands whose packages do not set one
// themselves, so every --help shows a way to start. A command's own
// Example wins.
var examples = map[string]string{
	"cowdisk": `  cowdisk dev cluster up --dir /tmp/cowdisk-dev > /tmp/cowdisk-dev.env && . /tmp/cowdisk-dev.env
  cowdisk serve images & cowdisk serve node &
  cowdisk image create debian-13 --file debian-13.qcow2 --disk-format qcow2
  cowdisk disk create --instance 6f1e0c9a-0b7d-4c35-9a53-5d2f4c1e8a10 --image debian-13-id`,
	"cowdisk bench": `  cowdisk bench --sizes 256MiB,1GiB --reps 2 --results /tmp/bench-results
  cowdisk bench --storm 64 --throughput-disks 64`,
	"cowdisk dev": `  cowdisk dev cluster up --dir /tmp/cowdisk-dev > /tmp/cowdisk-dev.env
  cowdisk dev cluster down --dir /tmp/cowdisk-dev`,
	"cowdisk dev cluster": `  cowdisk dev cluster up --dir /tmp/cowdisk-dev > /tmp/cowdisk-dev.env && . /tmp/cowdisk-dev.env
  cowdisk dev cluster down --dir /tmp/cowdisk-dev`,
	"cowdisk dev cluster env": `  eval "$(cowdisk dev cluster env --dir /tmp/cowdisk-dev)"`,
	"cowdisk dev cluster up":  `  cowdisk dev cluster up --dir /tmp/cowdisk-dev > /tmp/cowdisk-dev.env && . /tmp/cowdisk-dev.env`,
	"cowdisk serve": `  cowdisk serve images --data-dir /var/lib/cowdisk/imagesvc
  cowdisk serve node --image-service http://127.0.0.1:9292 --vms-pool vms`,
	"cowdisk serve images": `  cowdisk serve images --data-dir /tmp/imagesvc --listen 127.0.0.1:9292
  cowdisk serve images --auth tokens --tokens-file tokens.json`,
	"cowdisk serve node": `  cowdisk serve node --image-service http://127.0.0.1:9292 --images-pool images --vms-pool vms
  cowdisk serve node --backend local --local-dir /var/lib/cowdisk`,
}

// addExamples walks the tree and sets the missing examples.
func addExamples(c *cobra.Command) {
	if c.Example == "" {
		c.Example = examples[c.CommandPath()]
	}
	for _, sub := range c.Commands() {
		addExamples(sub)
	}
}
