package report

import (
	"fmt"
	"html"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
)

// Chart geometry. The plot is log-log: sizes grow 16× and times span four
// decades (a clone in ms, a naive 4 GiB pipeline in tens of seconds), which a
// linear axis would squash into two visible lines.
const (
	chartW, chartH = 960, 540
	plotL, plotT   = 80, 50
	plotR, plotB   = 600, 480 // right and bottom edges of the plot area
	legendX        = 620
	dashedFormat   = FormatQCOW2
)

var palette = []string{"#1b9e77", "#d95f02", "#7570b3", "#e7298a", "#66a61e", "#e6ab02", "#a6761d", "#666666"}

// pathColor gives each path one colour; its raw and qcow2 lines differ only
// in dashing, so a reader pairs them at a glance.
func pathColor(p Path) string {
	i := max(0, slices.Index(PathOrder, p))
	return palette[i%len(palette)]
}

// ShortLabels name the paths in the chart legend, where space is scarce.
var ShortLabels = map[Path]string{
	PathFloor:   "floor: bare clone",
	PathClone:   "cowdisk clone",
	PathCold:    "cowdisk fallback cold",
	PathWarm:    "cowdisk fallback warm",
	PathRBD:     "rbd import (local raw)",
	PathQemuRBD: "qemu-img → rbd:",
	PathNaive:   "naive pipeline",
}

// decade labels a power of ten without false precision ("10 s", "100 ms").
func decade(d float64) string {
	v := math.Pow(10, d)
	if v < 1 {
		return strconv.FormatFloat(v*1000, 'f', -1, 64) + " ms"
	}
	return strconv.FormatFloat(v, 'f', -1, 64) + " s"
}

// line is one path+format drawn across sizes.
type line struct {
	label  string
	color  string
	dashed bool
	pts    []Series
}

// SVG draws time to ready against image size, one line per path and format,
// medians joined, min–max as whiskers.
func (r *Result) SVG(w io.Writer) error {
	lines := r.lines()
	xlo, xhi := r.xRange()
	ylo, yhi := yRange(lines)
	xs := func(size int64) float64 {
		return scale(math.Log2(float64(size)), math.Log2(float64(xlo)), math.Log2(float64(xhi)), plotL, plotR)
	}
	ys := func(sec float64) float64 { return scale(math.Log10(sec), ylo, yhi, plotB, plotT) }

	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" font-family="sans-serif" font-size="12">`+"\n", chartW, chartH, chartW, chartH)
	fmt.Fprintf(&b, `<rect width="%d" height="%d" fill="white"/>`+"\n", chartW, chartH)
	fmt.Fprintf(&b, `<text x="%d" y="24" font-size="16" font-weight="bold">Time to ready vs image size (log–log; median, min–max whiskers)</text>`+"\n", plotL)
	axes(&b, r.sortedSizes(), xs, ys, ylo, yhi)
	for i, l := range lines {
		drawLine(&b, l, xs, ys)
		legend(&b, l, i)
	}
	b.WriteString("</svg>\n")
	_, err := io.WriteString(w, b.String())
	return err
}

func (r *Result) lines() []line {
	var out []line
	for _, p := range PathOrder {
		for _, f := range []string{FormatRaw, FormatQCOW2} {
			l := line{label: ShortLabels[p] + ", " + f, dashed: f == dashedFormat, color: pathColor(p)}
			for _, size := range r.sortedSizes() {
				if s := r.Find(p, f, size); s != nil && s.Summary.N > 0 && s.Summary.Min > 0 {
					l.pts = append(l.pts, *s)
				}
			}
			if len(l.pts) > 0 {
				out = append(out, l)
			}
		}
	}
	return out
}

// xRange pads a single size so its points sit mid-plot instead of on an axis.
func (r *Result) xRange() (int64, int64) {
	s := r.sortedSizes()
	if len(s) == 0 {
		return 1 << 20, 1 << 30
	}
	lo, hi := s[0], s[len(s)-1]
	return lo / 2, hi * 2
}

// yRange is whole decades (as log10) around every sample.
func yRange(lines []line) (float64, float64) {
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, l := range lines {
		for _, s := range l.pts {
			lo, hi = math.Min(lo, s.Summary.Min), math.Max(hi, s.Summary.Max)
		}
	}
	if math.IsInf(lo, 1) {
		return -3, 2
	}
	a, b := math.Floor(math.Log10(lo)), math.Ceil(math.Log10(hi))
	if b <= a {
		b = a + 1
	}
	return a, b
}

func scale(v, lo, hi, to0, to1 float64) float64 {
	if hi == lo {
		return (to0 + to1) / 2
	}
	return to0 + (v-lo)/(hi-lo)*(to1-to0)
}

func axes(b *strings.Builder, sizes []int64, xs func(int64) float64, ys func(float64) float64, ylo, yhi float64) {
	fmt.Fprintf(b, `<rect x="%d" y="%d" width="%d" height="%d" fill="none" stroke="#333"/>`+"\n", plotL, plotT, plotR-plotL, plotB-plotT)
	for d := ylo; d <= yhi; d++ {
		y := ys(math.Pow(10, d))
		fmt.Fprintf(b, `<line x1="%d" y1="%.1f" x2="%d" y2="%.1f" stroke="#ddd"/>`+"\n", plotL, y, plotR, y)
		fmt.Fprintf(b, `<text x="%d" y="%.1f" text-anchor="end" dominant-baseline="middle">%s</text>`+"\n", plotL-6, y, decade(d))
	}
	for _, s := range sizes {
		x := xs(s)
		fmt.Fprintf(b, `<line x1="%.1f" y1="%d" x2="%.1f" y2="%d" stroke="#ddd"/>`+"\n", x, plotT, x, plotB)
		fmt.Fprintf(b, `<text x="%.1f" y="%d" text-anchor="middle">%s</text>`+"\n", x, plotB+18, HumanSize(s))
	}
	fmt.Fprintf(b, `<text x="%d" y="%d" text-anchor="middle">image size (virtual)</text>`+"\n", (plotL+plotR)/2, plotB+40)
	fmt.Fprintf(b, `<text x="20" y="%d" text-anchor="middle" transform="rotate(-90 20 %d)">time to disk ready</text>`+"\n", (plotT+plotB)/2, (plotT+plotB)/2)
}

func drawLine(b *strings.Builder, l line, xs func(int64) float64, ys func(float64) float64) {
	dash := ""
	if l.dashed {
		dash = ` stroke-dasharray="6 4"`
	}
	var pts []string
	for _, s := range l.pts {
		x := xs(s.Size)
		pts = append(pts, fmt.Sprintf("%.1f,%.1f", x, ys(s.Summary.Median)))
		fmt.Fprintf(b, `<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="%s" stroke-width="1"/>`+"\n",
			x, ys(s.Summary.Min), x, ys(s.Summary.Max), l.color)
		fmt.Fprintf(b, `<circle cx="%.1f" cy="%.1f" r="3.5" fill="%s"><title>%s %s: %s</title></circle>`+"\n",
			x, ys(s.Summary.Median), l.color, html.EscapeString(l.label), HumanSize(s.Size), Duration(s.Summary.Median))
	}
	fmt.Fprintf(b, `<polyline points="%s" fill="none" stroke="%s" stroke-width="2"%s/>`+"\n", strings.Join(pts, " "), l.color, dash)
}

func legend(b *strings.Builder, l line, i int) {
	y := plotT + 10 + i*22
	dash := ""
	if l.dashed {
		dash = ` stroke-dasharray="6 4"`
	}
	fmt.Fprintf(b, `<line x1="%d" y1="%d" x2="%d" y2="%d" stroke="%s" stroke-width="2"%s/>`+"\n", legendX, y, legendX+28, y, l.color, dash)
	fmt.Fprintf(b, `<text x="%d" y="%d" dominant-baseline="middle">%s</text>`+"\n", legendX+36, y, html.EscapeString(l.label))
}
