package server

import (
	"context"
	"encoding/json"
	"errors"
	"time"

	"github.com/headroom-sre/headroom/pipeline"
	"github.com/headroom-sre/headroom/plan"
	"github.com/headroom-sre/headroom/report"
	"github.com/headroom-sre/headroom/store"
)

// answer is what a finished job's summary adds so that its row, its page
// and its report say the same: the report's readiness verdict and its
// sentence (report.Verdict, against the plan's baseline as the report
// compares by default), the single-instance capacity of a study, and the
// top finding.
func (d deps) answer(ctx context.Context, jobID, planID int64, art pipeline.Artifact, p *plan.Plan) map[string]any {
	o := report.Options{Plan: p}
	if b, err := d.st.Baseline(ctx, planID); err == nil && b != jobID {
		if j, err := d.st.GetJob(ctx, b); err == nil && len(j.Result) > 0 {
			if base, err := pipeline.Decode(j.Result); err == nil && base.Kind == art.Kind {
				o.Baseline = &base
			}
		}
	} else if err != nil && !errors.Is(err, store.ErrNotFound) {
		d.log.Warn("baseline for the job's verdict", "job", jobID, "err", err)
	}
	out := map[string]any{}
	ready, sentence, err := report.Verdict(art, o)
	if err != nil {
		d.log.Warn("job's verdict", "job", jobID, "err", err)
		return out
	}
	out["ready"], out["readiness"] = ready, sentence
	var title string
	switch {
	case art.Study != nil:
		if art.Study.Study != nil && art.Study.Capacity.SingleInstanceRPS > 0 {
			out["capacity_rps"] = art.Study.Capacity.SingleInstanceRPS
		}
		if len(art.Study.Findings) > 0 {
			title = art.Study.Findings[0].Title
		}
	case art.Run != nil:
		if len(art.Run.Findings) > 0 {
			title = art.Run.Findings[0].Title
		}
	}
	if title != "" {
		out["top_finding"] = title
	}
	return out
}

// answerOf is answer for a job as it finishes; a cancelled job's context
// still reads its baseline.
func (d deps) answerOf(ctx context.Context, j store.Job, art pipeline.Artifact, p *plan.Plan) map[string]any {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	return d.answer(ctx, j.ID, j.PlanID, art, p)
}

// withAnswer is summary (a JSON object) with answer's fields added.
func withAnswer(summary any, answer map[string]any) any {
	if len(answer) == 0 {
		return summary
	}
	raw, err := json.Marshal(summary)
	if err != nil {
		return summary
	}
	m := map[string]any{}
	if err := json.Unmarshal(raw, &m); err != nil {
		return summary
	}
	for k, v := range answer {
		m[k] = v
	}
	return m
}
