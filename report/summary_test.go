package report

import (
	"math"
	"strings"
	"testing"

	"github.com/headroom-sre/headroom/capacity"
	"github.com/headroom-sre/headroom/correlate"
	"github.com/headroom-sre/headroom/internal/golden"
	"github.com/headroom-sre/headroom/pipeline"
)

// subLinearStudy is the fixed study whose 3 instances carried half the
// prediction (the verify steps above the first broke the objectives),
// with the scaling finding correlation would attach (nil: none, as in a
// study that was not correlated).
func subLinearStudy(t *testing.T, scaling func(correlate.ScalingInput) correlate.Scaling) pipeline.Artifact {
	t.Helper()
	a := fixedStudy(t, 1)
	pr := a.Study.Study.Prediction
	pr.Steps = append([]capacity.Step(nil), pr.Steps...) // the cached fixture's steps stay as they are
	for i := 1; i < len(pr.Steps); i++ {
		pr.Steps[i].Verdict = capacity.Unacceptable
	}
	measured := pr.Steps[0].Throughput
	ratio := measured / pr.PredictedRPS
	pr.MeasuredRPS, pr.Ratio = &measured, &ratio
	a.Study.Study.Prediction = pr
	if !pr.SubLinear() {
		t.Fatalf("precondition: ratio %.2f is not sub-linear", ratio)
	}
	if scaling == nil {
		return a
	}
	in, ok := correlate.ScalingInputOf(*a.Study.Study, loadPlan(t))
	if !ok {
		t.Fatal("precondition: the study's verification is not sub-linear")
	}
	f := scaling(in).Finding
	f.Rank = len(a.Study.Findings) + 1
	a.Study.Findings = append(append([]correlate.Finding(nil), a.Study.Findings...), f)
	return a
}

// sharedHost: every verify step read the host's 2 cores busy (95%), the
// three instances evenly loaded.
func sharedHost(in correlate.ScalingInput) correlate.Scaling {
	var r correlate.ScalingReadings
	for _, st := range in.Steps {
		nan := math.NaN()
		per := st.Throughput / 3
		r.Steps = append(r.Steps, correlate.StepLoad{Step: st.Index, RPS: st.Throughput, Seconds: 4, HostBusy: 1.9, HostCores: 2,
			DBCPU: nan, PoolWait: nan, PoolWaitS: nan, PoolSize: nan,
			Instances: []correlate.InstanceLoad{{Instance: "127.0.0.1:18082", RPS: per, LatencyMs: 40, CPU: 0.5},
				{Instance: "127.0.0.1:18083", RPS: per, LatencyMs: 41, CPU: 0.5}, {Instance: "127.0.0.1:18084", RPS: per, LatencyMs: 39, CPU: 0.5}}})
	}
	r.Shared.Host = "host"
	return correlate.DecideScaling(in, r)
}

// nothingRead: Prometheus could not be read during verification.
func nothingRead(in correlate.ScalingInput) correlate.Scaling {
	return correlate.DecideScaling(in, correlate.ScalingReadings{NotAvailable: []string{"scaling: not available: connection refused"}})
}

func scalingCheck(t *testing.T, v *view) check {
	t.Helper()
	for _, c := range v.Checks {
		if c.Name == "3-instance capacity" {
			return c
		}
	}
	t.Fatalf("no 3-instance check in %+v", v.Checks)
	return check{}
}

// The report says why the fleet fell short when the study's scaling
// finding names the cause, and only otherwise the generic sentence.
func TestSubLinearScalingCarriesTheFindingsCause(t *testing.T) {
	withCause := subLinearStudy(t, sharedHost)
	why, ok := correlate.ScalingReasonOf(withCause.Study.Findings)
	if !ok || !why.Explained || !strings.Contains(why.Statement, "the 3 instances shared 2 cores: host CPU 95%") {
		t.Fatalf("precondition: the fixture's scaling finding names the shared host: %+v", why)
	}
	v := viewOf(t, withCause)
	c := scalingCheck(t, v)
	if c.Status != statusFail || !strings.Contains(c.Note, why.Statement) || strings.Contains(c.Note, "the instances share something") {
		t.Errorf("with a scaling finding, the check's note is %q (%s); want the finding's cause %q", c.Note, c.Status, why.Statement)
	}
	if !strings.Contains(c.Note, "(finding 3)") {
		t.Errorf("the note %q does not point at the finding (rank 3)", c.Note)
	}
	if v.Ready || !strings.Contains(v.Sentence, "3-instance capacity") || !strings.Contains(v.Sentence, why.Statement) {
		t.Errorf("the verdict sentence does not say why the fleet fell short: %s", v.Sentence)
	}
	if !strings.Contains(v.Paragraph, "50% of the prediction: "+why.Statement) {
		t.Errorf("the summary paragraph does not carry the cause: %s", v.Paragraph)
	}
	golden.Check(t, "study-sublinear.md", render(t, withCause, Options{Format: Markdown, Plan: loadPlan(t)}))

	v = viewOf(t, subLinearStudy(t, nil))
	if c := scalingCheck(t, v); c.Note != genericSubLinear {
		t.Errorf("without a scaling finding the note is %q, want the generic %q", c.Note, genericSubLinear)
	}
	if strings.Contains(v.Sentence, "shared") || strings.Contains(v.Paragraph, "shared 2 cores") {
		t.Errorf("without a scaling finding the report invents a cause: %s / %s", v.Sentence, v.Paragraph)
	}

	v = viewOf(t, subLinearStudy(t, nothingRead))
	c = scalingCheck(t, v)
	if !strings.HasPrefix(c.Note, genericSubLinear) || !strings.Contains(c.Note, "names no cause: the instances and the shared components could not be read (finding 3)") {
		t.Errorf("a scaling finding that names no cause: note %q", c.Note)
	}
	if strings.Contains(v.Paragraph, "could not be read") {
		t.Errorf("the paragraph states a non-cause as the cause: %s", v.Paragraph)
	}
}
