package compare

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/headroom-sre/headroom/capacity"
	"github.com/headroom-sre/headroom/generator"
	"github.com/headroom-sre/headroom/pipeline"
)

func runArtifact(ws []generator.SecondRecord) pipeline.Artifact {
	return pipeline.Artifact{Kind: pipeline.KindRun, Run: &pipeline.RunResult{Kind: pipeline.KindRun,
		Result: &generator.Result{Seconds: ws}}}
}

// studyArtifact is a study whose baseline step (step 1 at 10 it/s) ran
// the given windows, the first two of them warm-up, and whose search
// bracketed capacity in [ok, broke).
func studyArtifact(ws []generator.SecondRecord, ok, broke float64) pipeline.Artifact {
	step := capacity.Step{Index: 1, Phase: capacity.PhaseBaseline, Rate: 10,
		Start: ws[2].Start, End: ws[len(ws)-1].Start.Add(time.Second)}
	var windows []pipeline.Window
	for _, w := range ws {
		windows = append(windows, pipeline.Window{Phase: string(capacity.PhaseBaseline), Step: 1, SecondRecord: w})
	}
	// A later step's windows, far slower, must not enter the comparison.
	slow := load{seconds: 5, rps: 40, medianMs: 500}.windows(99)
	for _, w := range slow {
		windows = append(windows, pipeline.Window{Phase: string(capacity.PhaseExplore), Step: 2, SecondRecord: w})
	}
	st := &capacity.Study{Steps: []capacity.Step{step},
		Capacity: capacity.Bounds{SingleInstanceRPS: ok, UnacceptableRPS: broke}}
	return pipeline.Artifact{Kind: pipeline.KindStudy, Study: &pipeline.StudyResult{Kind: pipeline.KindStudy, Study: st, Windows: windows}}
}

func TestArtifactsComparesRunsByTheirWindows(t *testing.T) {
	base := load{seconds: 20, rps: 40, medianMs: 20}
	slow := base
	slow.medianMs *= 1.3
	res, err := Artifacts(runArtifact(base.windows(1)), runArtifact(slow.windows(2)), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if res.Verdict != Regression {
		t.Errorf("verdict %s, want regression", res.Verdict)
	}
	res, err = Artifacts(runArtifact(base.windows(1)), runArtifact(base.windows(3)), Options{})
	if err != nil || res.Verdict != NoRegression {
		t.Errorf("unchanged: %s %v %v", res.Verdict, res.Reasons, err)
	}
}

func TestArtifactsComparesStudiesByCapacityAndBaselineStep(t *testing.T) {
	ws := load{seconds: 15, rps: 40, medianMs: 20}.windows(1)
	same := load{seconds: 15, rps: 40, medianMs: 20}.windows(2)
	tests := []struct {
		name      string
		base, cur pipeline.Artifact
		want      Verdict
		reason    string
	}{
		{"same capacity", studyArtifact(ws, 400, 440), studyArtifact(same, 400, 440), NoRegression, ""},
		// Within the search's resolution: the brackets overlap.
		{"overlapping brackets", studyArtifact(ws, 400, 440), studyArtifact(same, 380, 420), NoRegression, ""},
		// The current study broke at 280 req/s, where the baseline held 400: 30% less.
		{"30% less capacity", studyArtifact(ws, 400, 440), studyArtifact(same, 260, 280), Regression, "capacity_rps 400.0/s → 260.0/s"},
		{"more capacity", studyArtifact(ws, 260, 280), studyArtifact(same, 400, 440), Improvement, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res, err := Artifacts(tc.base, tc.cur, Options{})
			if err != nil {
				t.Fatal(err)
			}
			if res.Verdict != tc.want {
				t.Fatalf("verdict %s %v, want %s", res.Verdict, res.Reasons, tc.want)
			}
			if tc.reason != "" && !strings.Contains(strings.Join(res.Reasons, "\n"), tc.reason) {
				t.Errorf("reasons %q, want one with %q", res.Reasons, tc.reason)
			}
			if res.Capacity == nil || len(res.Names) == 0 {
				t.Fatalf("capacity %v names %v: want both compared", res.Capacity, res.Names)
			}
			// The slow explore step is left out: the baseline steps alone match.
			if d := find(t, res.Names[0], P99); d.Regressed {
				t.Errorf("p99 %+v: the explore step's windows leaked into the comparison", d)
			}
		})
	}
}

func TestArtifactsRefusesMixedKinds(t *testing.T) {
	ws := load{seconds: 5, rps: 10, medianMs: 5}.windows(1)
	_, err := Artifacts(runArtifact(ws), studyArtifact(ws, 1, 2), Options{})
	if err == nil || !strings.Contains(err.Error(), "a run against a study") {
		t.Fatalf("err %v", err)
	}
}

func TestStudiesAtDifferentBaselineRatesCompareCapacityOnly(t *testing.T) {
	ws := load{seconds: 10, rps: 40, medianMs: 20}.windows(1)
	b, c := studyArtifact(ws, 400, 440), studyArtifact(ws, 400, 440)
	c.Study.Study.Steps[0].Rate = 20
	res, err := Artifacts(b, c, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Names) != 0 || res.Capacity == nil || !strings.Contains(strings.Join(res.Notes, " "), "different rates") {
		t.Errorf("names %v capacity %v notes %v", res.Names, res.Capacity, res.Notes)
	}
}

// Rule 6: the capacity comparison is a bracket comparison; it claims no
// p-value, in the Delta, in its JSON or in its reason.
func TestCapacityComparisonClaimsNoPValue(t *testing.T) {
	ws := load{seconds: 15, rps: 40, medianMs: 20}.windows(1)
	same := load{seconds: 15, rps: 40, medianMs: 20}.windows(2)
	res, err := Artifacts(studyArtifact(ws, 400, 440), studyArtifact(same, 260, 280), Options{})
	if err != nil {
		t.Fatal(err)
	}
	d := res.Capacity
	if d == nil || !d.Regressed || d.Test != TestBracket || d.PValue != nil || d.PAdjusted != nil {
		t.Fatalf("capacity delta %+v: want a regressed bracket comparison with no p-value", d)
	}
	b, err := json.Marshal(d)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(b), "p_value") || !strings.Contains(string(b), `"test":"bracket"`) {
		t.Errorf("capacity JSON %s: want test bracket and no p_value", b)
	}
	reasons := strings.Join(res.Reasons, "\n")
	if strings.Contains(reasons, "p=") || !strings.Contains(reasons, "bracket comparison, no test") {
		t.Errorf("reasons %q: the capacity's must say bracket comparison and give no p", reasons)
	}
	if !strings.Contains(res.Rule, "Holm–Bonferroni") || !strings.Contains(res.Rule, "bracket comparison") {
		t.Errorf("rule %q does not state the correction and the bracket comparison", res.Rule)
	}
}
