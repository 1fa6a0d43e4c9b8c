package report

import (
	"errors"
	"fmt"
	"io"
	"path"
	"sort"
	"strings"

	"github.com/headroom-sre/headroom/pipeline"
	"github.com/headroom-sre/headroom/plan"
)

// Format is an output format of a report.
type Format string

// The formats.
const (
	HTML     Format = "html"
	PDF      Format = "pdf"
	Markdown Format = "md"
	JUnit    Format = "junit"
)

// Paper is the page size of a printed (PDF) report.
type Paper string

// The paper sizes.
const (
	A4     Paper = "A4"
	Letter Paper = "Letter"
)

// ParseFormat reads a format name: html, pdf, md (or markdown), junit.
func ParseFormat(s string) (Format, error) {
	switch f := Format(strings.ToLower(s)); f {
	case HTML, PDF, Markdown, JUnit:
		return f, nil
	case "markdown":
		return Markdown, nil
	case "xml":
		return JUnit, nil
	}
	return "", fmt.Errorf("format %q: want html, pdf, md or junit", s)
}

// ParsePaper reads a paper size: A4 or Letter, in any case.
func ParsePaper(s string) (Paper, error) {
	switch strings.ToLower(s) {
	case "", "a4":
		return A4, nil
	case "letter", "us-letter":
		return Letter, nil
	}
	return "", fmt.Errorf("paper %q: want A4 or Letter", s)
}

// Options say how to render a report. The zero value renders HTML on A4
// paper without a baseline, a plan or chart files.
type Options struct {
	Format Format // "" = HTML
	// Baseline is an earlier run or study of the same plan: the report
	// adds the regression section and the gate's checks.
	Baseline *pipeline.Artifact
	// MaxRegression is the smallest change of p95, p99 or throughput
	// against Baseline that counts as a regression (0.10 for 10%); 0 =
	// the comparison's default, 10%.
	MaxRegression float64
	// Alpha is the significance level of the comparison; 0 = its
	// default, 0.01.
	Alpha float64
	// Plan is the plan the document was produced from: the test plan
	// section and, for a study, the objectives at capacity need it.
	Plan *plan.Plan
	// Paper is the page size the HTML's print style (and so the PDF)
	// uses; "" = A4.
	Paper Paper
	// ChartDir is where Markdown writes its chart images (PNG), created
	// when missing; "" leaves the charts out of the Markdown.
	ChartDir string
	// ChartLink is how the Markdown refers to ChartDir; "" = ChartDir as
	// given (a path relative to the Markdown file works on code hosts).
	ChartLink string
	// Chromium is the browser PDF prints with; "" = chromium on PATH,
	// else /usr/bin/chromium.
	Chromium string
	// Profiles, when set, are the pprof profiles kept with the job: the
	// findings section says how many and where to download them.
	Profiles *Profiles
}

// Profiles are the pprof profiles kept with a job.
type Profiles struct {
	Count int
	// Kinds counts them by kind (cpu, alloc, mutex, block).
	Kinds map[string]int
	// URL lists them (the API's /api/v1/jobs/{id}/profiles); each one
	// downloads as a .pb.gz for go tool pprof.
	URL string
}

// line is the report's sentence about the profiles: "Profiles: 12 kept
// (6 cpu, 6 alloc) — download via …".
func (p *Profiles) line() string {
	if p == nil || p.Count == 0 {
		return ""
	}
	kinds := make([]string, 0, len(p.Kinds))
	for k := range p.Kinds {
		kinds = append(kinds, k)
	}
	sort.Strings(kinds)
	parts := make([]string, 0, len(kinds))
	for _, k := range kinds {
		parts = append(parts, fmt.Sprintf("%d %s", p.Kinds[k], k))
	}
	s := fmt.Sprintf("Profiles: %d kept", p.Count)
	if len(parts) > 0 {
		s += " (" + strings.Join(parts, ", ") + ")"
	}
	return s + " — download via " + p.URL + " (each one a .pb.gz for go tool pprof)."
}

func (o Options) withDefaults() Options {
	if o.Format == "" {
		o.Format = HTML
	}
	if o.Paper == "" {
		o.Paper = A4
	}
	if o.ChartLink == "" {
		o.ChartLink = o.ChartDir
	}
	return o
}

// ErrNoDocument is returned for an Artifact that holds neither a run nor
// a study.
var ErrNoDocument = errors.New("report: the artifact holds no run or study")

// Render writes the report of a run or study in o.Format. PDF needs
// Chromium (see PrintPDF); the other formats are pure Go.
func Render(w io.Writer, a pipeline.Artifact, o Options) error {
	o = o.withDefaults()
	v, err := newView(a, o)
	if err != nil {
		return err
	}
	switch o.Format {
	case HTML:
		return writeHTML(w, v, o)
	case Markdown:
		return writeMarkdown(w, v, o)
	case JUnit:
		return writeJUnit(w, v)
	case PDF:
		return renderPDF(w, v, o)
	}
	return fmt.Errorf("report: unknown format %q", o.Format)
}

// newView builds the report's content: the source, the comparison with
// the baseline, the view.
func newView(a pipeline.Artifact, o Options) (*view, error) {
	s, err := fromArtifact(a, o.Plan)
	if err != nil {
		return nil, err
	}
	var reg *regressionView
	if o.Baseline != nil {
		if reg, err = regression(*o.Baseline, a, o); err != nil {
			return nil, fmt.Errorf("report: compare with the baseline: %w", err)
		}
	}
	v := build(s, reg)
	if o.Profiles == nil && a.Study != nil {
		o.Profiles = keptFiles(a.Study.Profiles)
	}
	v.Profiles = o.Profiles.line()
	return v, nil
}

// keptFiles are the profiles a study kept as files beside its document
// (headroom capacity), as the report names them: their folder; nil for
// none.
func keptFiles(fs []pipeline.ProfileFile) *Profiles {
	if len(fs) == 0 {
		return nil
	}
	p := &Profiles{Count: len(fs), Kinds: map[string]int{}, URL: path.Dir(fs[0].File) + "/"}
	for _, f := range fs {
		p.Kinds[f.Kind]++
	}
	return p
}

// fromArtifact reads a pipeline document into a source.
func fromArtifact(a pipeline.Artifact, p *plan.Plan) (*source, error) {
	s := &source{plan: p}
	switch {
	case a.Kind == pipeline.KindRun && a.Run != nil && a.Run.Result != nil:
		r := a.Run
		s.kind, s.outcome, s.planRef, s.run = kindRun, string(r.Outcome), r.Plan, r.Result
		for _, x := range r.SLO {
			s.slo = append(s.slo, sloRow{Name: x.Name, Threshold: x.Threshold, Value: x.Value, Unit: x.Unit, Pass: x.Pass, Note: x.Note})
		}
		for _, rec := range r.Seconds {
			s.windows = append(s.windows, window{SecondRecord: rec})
		}
		s.findings, s.corr = r.Findings, r.Correlation
		s.loop = loop{soak: r.Soak, spike: r.Spike}
	case a.Kind == pipeline.KindStudy && a.Study != nil && a.Study.Study != nil:
		st := a.Study
		s.kind, s.outcome, s.planRef, s.study = kindStudy, string(st.Outcome), st.Plan, st.Study
		for _, w := range st.Windows {
			s.windows = append(s.windows, window{Phase: w.Phase, Step: w.Step, SecondRecord: w.SecondRecord})
		}
		s.findings, s.corr = st.Findings, st.Correlation
		s.loop = loop{assess: st.Assess}
	default:
		return nil, ErrNoDocument
	}
	if len(s.findings) == 0 && s.corr != nil {
		s.findings = s.corr.Findings
	}
	return s, nil
}

// ContentType is the media type of a report in format f, for HTTP.
func (f Format) ContentType() string {
	switch f {
	case PDF:
		return "application/pdf"
	case Markdown:
		return "text/markdown; charset=utf-8"
	case JUnit:
		return "application/xml; charset=utf-8"
	}
	return "text/html; charset=utf-8"
}

// Extension is the usual file extension of format f.
func (f Format) Extension() string {
	switch f {
	case PDF:
		return ".pdf"
	case Markdown:
		return ".md"
	case JUnit:
		return ".xml"
	}
	return ".html"
}

// Verdict is the report's verdict without rendering it: whether the run
// or study is ready (every check held, the baseline gate included) and
// the sentence that says so.
func Verdict(a pipeline.Artifact, o Options) (ready bool, sentence string, err error) {
	v, err := newView(a, o.withDefaults())
	if err != nil {
		return false, "", err
	}
	return v.Ready, v.Sentence, nil
}
