package report

import (
	"embed"
	"fmt"
	"html/template"
	"io"
	"strings"
	"time"
)

//go:embed assets/report.html.tmpl assets/report.css
var assets embed.FS

// page is what the HTML template gets.
type page struct {
	V        *view
	Subtitle []string
	Charts   []htmlChart
	CSS      template.CSS
	PageCSS  template.CSS // the @page rules: paper size, margins, footer
}

type htmlChart struct {
	ID, Caption string
	SVG         template.HTML // drawn by gonum/plot, its text escaped by the SVG canvas
}

var htmlTemplate = template.Must(template.New("report.html.tmpl").Funcs(template.FuncMap{
	"word":     resultWord,
	"join":     strings.Join,
	"num":      fmtFloat,
	"ms":       fmtMs,
	"pct":      fmtPct,
	"rps":      fmtRPS,
	"unit":     withUnit,
	"lead":     lead,
	"opt":      optFloat,
	"span":     spanName,
	"short":    short,
	"readings": readings,
	"spansOf":  spansOf,
	"step":     stepNo,
	"clock":    func(t time.Time) string { return fmtClock(t) },
	"verdict":  func(s string) string { return strings.ReplaceAll(s, "_", " ") },
	"kv":       func(title string, ps []pair) map[string]any { return map[string]any{"Title": title, "Pairs": ps} },
}).ParseFS(assets, "assets/report.html.tmpl"))

// writeHTML writes the report as one self-contained HTML page: inline CSS
// and SVG charts, no scripts, no network.
func writeHTML(w io.Writer, v *view, o Options) error {
	css, err := assets.ReadFile("assets/report.css")
	if err != nil {
		return err
	}
	p := page{V: v, Subtitle: subtitle(v), CSS: template.CSS(css), PageCSS: pageCSS(o.Paper, v.Title+" · "+fmtTime(v.Started))}
	for _, c := range v.Charts {
		svg, err := c.svg()
		if err != nil {
			return err
		}
		p.Charts = append(p.Charts, htmlChart{ID: c.ID, Caption: c.Caption, SVG: template.HTML(svg)})
	}
	if err := htmlTemplate.Execute(w, p); err != nil {
		return fmt.Errorf("report: html: %w", err)
	}
	return nil
}

// pageCSS are the print rules: the paper, its margins, a footer with the
// report's title and the page number.
func pageCSS(p Paper, footer string) template.CSS {
	return template.CSS(`@page { size: ` + pageSize(p) + `; margin: 14mm 13mm 16mm;
  @bottom-left { content: ` + cssString(footer) + `; font: 8pt "Liberation Sans", sans-serif; color: #57606a; }
  @bottom-right { content: "page " counter(page) " of " counter(pages); font: 8pt "Liberation Sans", sans-serif; color: #57606a; } }`)
}

// cssString quotes s as a CSS string, every character outside printable
// ASCII (and quotes, backslashes, angle brackets) as a hex escape.
func cssString(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range s {
		if r < 0x20 || r > 0x7e || strings.ContainsRune(`"\<>&`, r) {
			fmt.Fprintf(&b, "\\%x ", r)
			continue
		}
		b.WriteRune(r)
	}
	b.WriteByte('"')
	return b.String()
}

// pageSize is the CSS @page size of a paper.
func pageSize(p Paper) string {
	if p == Letter {
		return "letter"
	}
	return "A4"
}
