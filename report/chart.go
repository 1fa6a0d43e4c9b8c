package report

import (
	"bytes"
	"fmt"
	"image/color"
	"math"
	"strings"
	"time"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/font"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
	"gonum.org/v1/plot/vg/vgsvg"
)

// chart is one figure of the report: a gonum plot with its size, drawn
// as inline SVG for HTML and as a PNG file beside the Markdown.
type chart struct {
	ID      string // file name stem: latency, throughput, …
	Title   string
	Caption string
	plot    *plot.Plot
	w, h    vg.Length
}

// Chart sizes: the width fits an A4 or Letter page between its margins.
const (
	chartW     = 17 * vg.Centimeter
	chartH     = 6.3 * vg.Centimeter
	chartSmall = 4.5 * vg.Centimeter
	pngDPI     = 144
)

// The series colours: distinct in print and for common colour blindness
// (Okabe–Ito), kept after the dark theme's invert + hue-rotate.
var (
	colP50     = color.RGBA{0, 114, 178, 255}   // blue
	colP95     = color.RGBA{230, 159, 0, 255}   // orange
	colP99     = color.RGBA{213, 94, 0, 255}    // vermillion
	colThrough = color.RGBA{0, 158, 115, 255}   // bluish green
	colOffered = color.RGBA{120, 120, 120, 255} // grey
	colError   = color.RGBA{204, 0, 0, 255}
	colFit     = color.RGBA{204, 121, 167, 255} // reddish purple
	colSLO     = color.RGBA{204, 0, 0, 255}
	colMark    = color.RGBA{150, 150, 150, 255}
	colShade   = color.NRGBA{213, 94, 0, 40}
	colBase    = color.NRGBA{0, 114, 178, 28}
)

// sans is the face of every text on a chart.
func sans(size vg.Length) font.Font {
	return font.Font{Typeface: "Liberation", Variant: "Sans", Size: size}
}

// newPlot is a plot with the report's fonts, a title and axis labels.
func newPlot(title, x, y string) *plot.Plot {
	p := plot.New()
	p.Title.Text = title
	p.Title.TextStyle.Font = sans(11)
	p.Title.Padding = 4
	for _, a := range []*plot.Axis{&p.X, &p.Y} {
		a.Label.TextStyle.Font = sans(9)
		a.Tick.Label.Font = sans(8)
	}
	p.X.Label.Text, p.Y.Label.Text = x, y
	p.X.Tick.Marker, p.Y.Tick.Marker = readableTicks{}, readableTicks{}
	p.Legend.TextStyle.Font = sans(8)
	p.Legend.ThumbnailWidth = 0.5 * vg.Centimeter
	p.Legend.Padding = 2.5
	p.Add(plotter.NewGrid())
	return p
}

// legendW is the column right of the plot that holds its legend.
const legendW = 3.9 * vg.Centimeter

// draw draws the plot with its legend in a column on the right, so that
// the legend never covers a line.
func (c chart) draw(dc draw.Canvas) {
	dc.SetColor(color.White)
	dc.Fill(dc.Rectangle.Path())
	p := *c.plot
	leg := p.Legend
	p.Legend = plot.NewLegend()
	p.Draw(draw.Crop(dc, 0, -legendW, 0, 0))
	leg.Top, leg.Left = true, true
	leg.XOffs = 0.3 * vg.Centimeter
	leg.YOffs = -(p.Title.TextStyle.Rectangle(p.Title.Text).Size().Y + p.Title.Padding + 4)
	leg.Draw(draw.Crop(dc, dc.Max.X-dc.Min.X-legendW, 0, 0, 0))
}

// readableTicks are gonum's default ticks with labels written as the
// report writes numbers (250, not 250.00).
type readableTicks struct{}

func (readableTicks) Ticks(lo, hi float64) []plot.Tick {
	ts := plot.DefaultTicks{}.Ticks(lo, hi)
	for i := range ts {
		if ts[i].Label != "" {
			ts[i].Label = fmtFloat(ts[i].Value)
		}
	}
	return ts
}

// svg draws the chart as an SVG element for inline use (no XML prolog).
func (c chart) svg() ([]byte, error) {
	cv := vgsvg.New(c.w, c.h)
	c.draw(draw.New(cv))
	var b bytes.Buffer
	if _, err := cv.WriteTo(&b); err != nil {
		return nil, fmt.Errorf("chart %s: svg: %w", c.ID, err)
	}
	out := b.String()
	if i := strings.Index(out, "<svg"); i >= 0 {
		out = out[i:]
	}
	out = strings.Replace(out, "<svg ", `<svg role="img" aria-label="`+attrEscape(c.Title)+`" `, 1)
	return []byte(out), nil
}

// png draws the chart as a PNG image.
func (c chart) png() ([]byte, error) {
	cv := vgimg.PngCanvas{Canvas: vgimg.NewWith(vgimg.UseWH(c.w, c.h), vgimg.UseDPI(pngDPI))}
	c.draw(draw.New(cv))
	var b bytes.Buffer
	if _, err := cv.WriteTo(&b); err != nil {
		return nil, fmt.Errorf("chart %s: png: %w", c.ID, err)
	}
	return b.Bytes(), nil
}

func attrEscape(s string) string {
	r := strings.NewReplacer(`&`, "&amp;", `"`, "&quot;", `<`, "&lt;", `>`, "&gt;")
	return r.Replace(s)
}

// line adds a line through xys with a colour, width and optional dashes;
// it returns the line for the legend.
func line(p *plot.Plot, xys plotter.XYs, c color.Color, width vg.Length, dashes ...vg.Length) *plotter.Line {
	l, err := plotter.NewLine(xys)
	if err != nil { // only non-finite values, which callers filter out
		return nil
	}
	l.Color, l.Width, l.Dashes = c, width, dashes
	p.Add(l)
	return l
}

// points adds glyphs at xys.
func points(p *plot.Plot, xys plotter.XYs, c color.Color, shape draw.GlyphDrawer) *plotter.Scatter {
	s, err := plotter.NewScatter(xys)
	if err != nil {
		return nil
	}
	s.GlyphStyle.Color, s.GlyphStyle.Radius, s.GlyphStyle.Shape = c, 2.5, shape
	p.Add(s)
	return s
}

// band shades [x0, x1] × [y0, y1].
func band(p *plot.Plot, x0, x1, y0, y1 float64, c color.Color) *plotter.Polygon {
	pg, err := plotter.NewPolygon(plotter.XYs{{X: x0, Y: y0}, {X: x1, Y: y0}, {X: x1, Y: y1}, {X: x0, Y: y1}})
	if err != nil {
		return nil
	}
	pg.Color = c
	pg.LineStyle.Width = 0
	p.Add(pg)
	return pg
}

// hline draws a horizontal dashed line at y across [x0, x1] with a label
// in the legend.
func hline(p *plot.Plot, x0, x1, y float64, c color.Color, name string) {
	if l := line(p, plotter.XYs{{X: x0, Y: y}, {X: x1, Y: y}}, c, 1, 4, 3); l != nil && name != "" {
		p.Legend.Add(name, l)
	}
}

// finite reports whether every value is a usable number.
func finite(vs ...float64) bool {
	for _, v := range vs {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return false
		}
	}
	return true
}

// unix is t as float seconds, the time axis's unit.
func unix(t time.Time) float64 { return float64(t.UnixNano()) / 1e9 }

// timeAxis formats the x axis as UTC clock times.
func timeAxis(p *plot.Plot, from, to float64) {
	p.X.Tick.Marker = plot.TimeTicks{Format: "15:04:05"}
	p.X.Min, p.X.Max = from, to
	p.X.Label.Text = "time (UTC)"
}
