package main

import (
	"context"
	"fmt"
	"io"
	"os"

	"github.com/headroom-sre/headroom/correlate"
	"github.com/headroom-sre/headroom/pipeline"
	"github.com/headroom-sre/headroom/plan"
)

// noPlanScaling is the note of a study explained again without --plan:
// the study file holds the verify steps, not the components to read.
const noPlanScaling = "scaling: the study file holds the verify steps and the generator's figures, not the plan's observe.components " +
	"(the fleet's instances, the shared host, database and pooler): pass --plan plan.yaml to read them again"

// explainSavedScaling adds to rep, ranked last, why the saved study's N
// instances fell short of the prediction, explained again from the study
// file and Prometheus (see correlate.ExplainSavedScaling); nothing when
// verification did not fall short.
func explainSavedScaling(ctx context.Context, rep *correlate.Report, st *pipeline.StudyResult, p *plan.Plan, o plan.Observe, m correlate.Metrics) {
	if st == nil || st.Study == nil {
		return
	}
	maxVUs := 0
	if p != nil {
		maxVUs = p.Load.MaxVUs
	}
	sc, ok := correlate.ExplainSavedScaling(ctx, *st.Study, o, maxVUs, m, st.Findings)
	if !ok {
		return
	}
	if p == nil && !sc.Recorded {
		rep.Notes = append(rep.Notes, noPlanScaling)
	}
	if sc.Note != "" {
		rep.Notes = append(rep.Notes, sc.Note)
	}
	f := sc.Finding
	f.Rank = len(rep.Findings) + 1
	rep.Findings = append(rep.Findings, f)
}

// printScaling prints the scaling finding when the top three the report
// prints leave it out (it ranks last).
func printScaling(w io.Writer, rep correlate.Report) {
	for _, f := range rep.Findings {
		if f.Kind != correlate.KindScaling || f.Rank <= 3 {
			continue
		}
		ew := func(format string, a ...any) {
			if _, err := fmt.Fprintf(w, format, a...); err != nil {
				fmt.Fprintln(os.Stderr, "headroom: writing the scaling finding:", err)
			}
		}
		ew("\n%d. %s  [%s, score %.2f]\n", f.Rank, f.Title, f.Kind, f.Score)
		for _, fact := range f.Evidence.Facts {
			ew("   - %s\n", fact)
		}
		ew("   → %s\n", f.Recommendation)
	}
}
