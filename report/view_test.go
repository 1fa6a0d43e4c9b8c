package report

import (
	"strings"
	"testing"

	"github.com/headroom-sre/headroom/pipeline"
)

func viewOf(t *testing.T, a pipeline.Artifact) *view {
	t.Helper()
	v, err := newView(a, Options{Plan: loadPlan(t)}.withDefaults())
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func TestStudyVerdicts(t *testing.T) {
	v := viewOf(t, fixedStudy(t, 1))
	if !v.Ready || !strings.HasPrefix(v.Sentence, "Ready for the launch load") {
		t.Fatalf("the fixed study: %s", v.Sentence)
	}

	sub := fixedStudy(t, 1)
	measured, ratio := 0.19*sub.Study.Prediction.PredictedRPS, 0.19
	sub.Study.Prediction.MeasuredRPS, sub.Study.Prediction.Ratio = &measured, &ratio
	if v := viewOf(t, sub); v.Ready || !strings.Contains(v.Sentence, "3-instance capacity") {
		t.Errorf("sub-linear scaling (ratio 0.19) is ready: %s", v.Sentence)
	}

	lower := fixedStudy(t, 1)
	lower.Study.Prediction.MeasuredRPS, lower.Study.Prediction.Ratio, lower.Study.Prediction.AtLeast = &measured, &ratio, true
	if v := viewOf(t, lower); !v.Ready {
		t.Errorf("a verification that stopped early (a lower bound) fails the study: %s", v.Sentence)
	}

	missed := fixedStudy(t, 1)
	met := false
	missed.Study.Capacity.RequiredRPS, missed.Study.Capacity.RequiredMet = 500, &met
	if v := viewOf(t, missed); v.Ready || !strings.Contains(v.Sentence, "≥ 500 req/s") {
		t.Errorf("required_rps not met is ready: %s", v.Sentence)
	}

	cancelled := fixedStudy(t, 1)
	cancelled.Study.Outcome, cancelled.Study.Complete = pipeline.Cancelled, false
	if v := viewOf(t, cancelled); v.Ready || !strings.Contains(v.Sentence, "did not run to its end") {
		t.Errorf("a cancelled study: %s", v.Sentence)
	}
}

func TestRunVerdicts(t *testing.T) {
	if v := viewOf(t, fixedRun(t, 1)); !v.Ready || !strings.HasPrefix(v.Sentence, "Ready: every objective held") {
		t.Errorf("the fixed run: %s", v.Sentence)
	}
	aborted := fixedRun(t, 1)
	aborted.Run.Aborted, aborted.Run.Outcome = "error rate 60% for 10s", pipeline.Aborted
	if v := viewOf(t, aborted); v.Ready || !strings.Contains(v.Sentence, "abort rule") {
		t.Errorf("an aborted run: %s", v.Sentence)
	}
}

func TestNoDocument(t *testing.T) {
	if err := Render(&strings.Builder{}, pipeline.Artifact{Kind: pipeline.KindRun}, Options{}); err != ErrNoDocument {
		t.Errorf("an empty artifact: %v", err)
	}
}

func TestFormatsAndPapers(t *testing.T) {
	for in, want := range map[string]Format{"html": HTML, "PDF": PDF, "md": Markdown, "markdown": Markdown, "junit": JUnit, "xml": JUnit} {
		if got, err := ParseFormat(in); err != nil || got != want {
			t.Errorf("ParseFormat(%q) = %q, %v", in, got, err)
		}
	}
	if _, err := ParseFormat("docx"); err == nil {
		t.Error("docx accepted")
	}
	for in, want := range map[string]Paper{"": A4, "a4": A4, "Letter": Letter} {
		if got, err := ParsePaper(in); err != nil || got != want {
			t.Errorf("ParsePaper(%q) = %q, %v", in, got, err)
		}
	}
	if PDF.ContentType() != "application/pdf" || Markdown.Extension() != ".md" {
		t.Error("content type or extension")
	}
}

func TestCSSStringEscapes(t *testing.T) {
	if got := cssString(`a "b" </style> · c`); got != `"a \22 b\22  \3c /style\3e  \b7  c"` {
		t.Errorf("cssString = %s", got)
	}
}
