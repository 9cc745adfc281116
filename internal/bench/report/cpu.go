package report

import (
	"fmt"
	"strings"

	"github.com/cowdisk/cowdisk/internal/bench/stats"
)

// CPUSample is the CPU time one measurement burnt, by who burnt it, from
// /proc/<pid>/stat of the servers and getrusage of the bench before and
// after it.
type CPUSample struct {
	Node   float64 `json:"node_s"`   // the node agents (all of them; idle ones add nothing)
	Images float64 `json:"images_s"` // the image service
	// Client is the bench process and the tools it ran and waited for
	// (rbd, qemu-img): the baselines' work, and the naive pipeline's
	// download.
	Client float64 `json:"client_s"`
}

// Total is all of it.
func (c CPUSample) Total() float64 { return c.Node + c.Images + c.Client }

// CPU is the CPU samples of one path for one image, in sample order.
type CPU struct {
	Path    Path        `json:"path"`
	Format  string      `json:"format"`
	Size    int64       `json:"size_bytes"`
	Samples []CPUSample `json:"samples"`
}

// AddCPU files one sample's CPU split under (path, format, size).
func (r *Result) AddCPU(p Path, format string, size int64, c CPUSample) {
	for i := range r.CPU {
		if x := &r.CPU[i]; x.Path == p && x.Format == format && x.Size == size {
			x.Samples = append(x.Samples, c)
			return
		}
	}
	r.CPU = append(r.CPU, CPU{Path: p, Format: format, Size: size, Samples: []CPUSample{c}})
}

// FindCPU returns the CPU samples of (path, format, size) or nil.
func (r *Result) FindCPU(p Path, format string, size int64) *CPU {
	for i := range r.CPU {
		if x := &r.CPU[i]; x.Path == p && x.Format == format && x.Size == size {
			return x
		}
	}
	return nil
}

// PerGiB is the median CPU seconds per GiB of virtual size: of the node
// agents, the image service, the client side, and in all.
func (c CPU) PerGiB() CPUSample {
	gib := float64(c.Size) / (1 << 30)
	med := func(part func(CPUSample) float64) float64 {
		v := make([]float64, len(c.Samples))
		for i, s := range c.Samples {
			v[i] = part(s)
		}
		return stats.Summarize(v).Median / gib
	}
	return CPUSample{Node: med(func(s CPUSample) float64 { return s.Node }),
		Images: med(func(s CPUSample) float64 { return s.Images }),
		Client: med(func(s CPUSample) float64 { return s.Client })}
}

// cpuPaths are the rows of the CPU table: the paths that move an image's
// bytes (a clone moves none, so per GiB says nothing about it).
var cpuPaths = []Path{PathCold, PathWarm, PathUpload, PathRBD, PathQemuRBD, PathNaive}

func (r *Result) cpuTable(b *strings.Builder) {
	if len(r.CPU) == 0 {
		return
	}
	b.WriteString("### CPU seconds per GiB of image (medians: node agent + image service + client tools = total)\n\n")
	sizeHeader(b, []string{"path", "image"}, r.sortedSizes())
	pathRows(b, cpuPaths, r.sortedSizes(), func(p Path, f string, size int64) (string, bool) {
		c := r.FindCPU(p, f, size)
		if c == nil || len(c.Samples) == 0 {
			return "—", false
		}
		g := c.PerGiB()
		return fmt.Sprintf("%.2f + %.2f + %.2f = **%.2f**", g.Node, g.Images, g.Client, g.Total()), true
	})
	b.WriteString("\n")
}
