package server

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/headroom-sre/headroom/compare"
	"github.com/headroom-sre/headroom/pipeline"
	"github.com/headroom-sre/headroom/store"
)

// Review verdicts.
const (
	reviewPass       = "pass"       // the job passed and did not regress against the baseline (or there is none)
	reviewRegression = "regression" // the job passed its own objectives but regressed against the baseline
	reviewFail       = "fail"       // the job failed, was aborted, or could not run or be compared
)

// reviewJSON is a review as the API shows it.
type reviewJSON struct {
	ID              int64     `json:"id"`
	ScheduleID      int64     `json:"schedule_id"`
	JobID           int64     `json:"job_id,omitempty"`
	BaselineJobID   int64     `json:"baseline_job_id,omitempty"`
	Verdict         string    `json:"verdict"`
	Reasons         []string  `json:"reasons"`
	WebhookStatus   string    `json:"webhook_status"`
	WebhookAttempts int       `json:"webhook_attempts"`
	Created         time.Time `json:"created"`
}

func toReviewsJSON(rs []store.Review, limit int) []reviewJSON {
	if limit > 0 && len(rs) > limit {
		rs = rs[:limit]
	}
	out := make([]reviewJSON, len(rs))
	for i, r := range rs {
		reasons := r.Reasons
		if reasons == nil {
			reasons = []string{}
		}
		out[i] = reviewJSON{ID: r.ID, ScheduleID: r.ScheduleID, JobID: r.JobID, BaselineJobID: r.BaselineJobID,
			Verdict: r.Verdict, Reasons: reasons, WebhookStatus: r.WebhookStatus, WebhookAttempts: r.WebhookAttempts,
			Created: r.Created}
	}
	return out
}

// review runs one scheduled review: it queues the plan's run or study,
// waits for it to finish (on whichever server claims it), judges it
// against the plan's baseline, stores the review and delivers the webhook.
func (sc *scheduler) review(ctx context.Context, s store.Schedule) {
	log := sc.d.log.With("schedule", s.ID, "plan", s.PlanID, "kind", s.Kind)
	rv := store.Review{ScheduleID: s.ID}
	var planName string
	job, name, err := sc.queue(ctx, s)
	planName = name
	if err != nil {
		rv.Verdict, rv.Reasons = reviewFail, []string{"the scheduled " + s.Kind + " could not start: " + err.Error()}
	} else {
		rv.JobID = job.ID
		log.Info("scheduled review started", "job", job.ID)
		job, err = sc.wait(ctx, job.ID)
		if err != nil {
			rv.Verdict, rv.Reasons = reviewFail, []string{fmt.Sprintf("job %d did not finish: %v", job.ID, err)}
			if ctx.Err() != nil {
				rv.Reasons = []string{fmt.Sprintf("the server shut down while job %d ran", job.ID)}
			}
		} else {
			rv.Verdict, rv.BaselineJobID, rv.Reasons = sc.judge(context.WithoutCancel(ctx), job)
		}
	}
	// What follows is written even when the server is shutting down.
	wctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	if rv.JobID != 0 {
		if err := sc.d.st.SetVerdict(wctx, rv.JobID, rv.Verdict); err != nil {
			log.Error("set the job's verdict", "job", rv.JobID, "err", err)
		}
	}
	rv.WebhookStatus = webhookNone
	if s.Webhook != "" {
		rv.WebhookStatus = webhookPending
	}
	rv, err = sc.d.st.AddReview(wctx, rv)
	if err != nil {
		log.Error("store the review", "err", err)
		return
	}
	log.Info("review stored", "review", rv.ID, "job", rv.JobID, "verdict", rv.Verdict, "reasons", rv.Reasons)
	if s.Webhook == "" || ctx.Err() != nil {
		if s.Webhook != "" {
			rv.WebhookStatus = webhookFailed + ": the server shut down before sending it"
			sc.updateReview(wctx, rv)
		}
		return
	}
	summary := json.RawMessage(nil)
	if rv.JobID != 0 {
		if j, err := sc.d.st.GetJob(wctx, rv.JobID); err == nil {
			summary = j.Summary
		}
	}
	sc.deliver(ctx, s, rv, reviewMessage(sc.link, planName, s, rv, summary))
}

// queue creates the job of a scheduled review as POST /api/v1/jobs does:
// the latest plan version, checked against the server's allow-list.
func (sc *scheduler) queue(ctx context.Context, s store.Schedule) (store.Job, string, error) {
	return sc.d.jobs.queueLatest(ctx, s.PlanID, pipeline.Kind(s.Kind))
}

// wait polls job id until it has finished or ctx ends.
func (sc *scheduler) wait(ctx context.Context, id int64) (store.Job, error) {
	t := time.NewTicker(sc.d.poll)
	defer t.Stop()
	for {
		j, err := sc.d.st.GetJob(ctx, id)
		if err != nil {
			return store.Job{ID: id}, err
		}
		if j.Status.Finished() {
			return j, nil
		}
		select {
		case <-ctx.Done():
			return j, context.Cause(ctx)
		case <-t.C:
		}
	}
}

// judge gives a finished job's verdict, the baseline it was compared with
// (0 = none) and the reasons.
func (sc *scheduler) judge(ctx context.Context, job store.Job) (string, int64, []string) {
	cur, derr := decodeResult(job)
	if job.Status != store.Passed {
		reasons := []string{fmt.Sprintf("job %d ended %s", job.ID, job.Status)}
		if job.Error != "" {
			reasons = append(reasons, job.Error)
		}
		if derr == nil && cur.Run != nil {
			for _, r := range cur.Run.SLO {
				if !r.Pass {
					reasons = append(reasons, fmt.Sprintf("objective %s %s missed: %g %s", r.Name, r.Threshold, r.Value, r.Unit))
				}
			}
		}
		return reviewFail, 0, reasons
	}
	if derr != nil {
		return reviewFail, 0, []string{fmt.Sprintf("job %d result: %v", job.ID, derr)}
	}
	baseID, err := sc.d.st.Baseline(ctx, job.PlanID)
	if errors.Is(err, store.ErrNotFound) || baseID == job.ID {
		return reviewPass, 0, []string{fmt.Sprintf("job %d passed; the plan has no baseline to compare with (PUT /api/v1/plans/%d/baseline)", job.ID, job.PlanID)}
	}
	if err != nil {
		return reviewFail, 0, []string{fmt.Sprintf("read the plan's baseline: %v", err)}
	}
	baseJob, err := sc.d.st.GetJob(ctx, baseID)
	if err != nil {
		return reviewFail, baseID, []string{fmt.Sprintf("read baseline job %d: %v", baseID, err)}
	}
	base, err := decodeResult(baseJob)
	if err != nil {
		return reviewFail, baseID, []string{fmt.Sprintf("baseline job %d result: %v", baseID, err)}
	}
	res, err := compare.Artifacts(base, cur, compare.Options{})
	if err != nil {
		return reviewFail, baseID, []string{fmt.Sprintf("compare job %d with baseline job %d: %v", job.ID, baseID, err)}
	}
	if res.Verdict == compare.Regression {
		reasons := res.Regressed()
		if len(reasons) == 0 {
			reasons = res.Reasons
		}
		return reviewRegression, baseID, reasons
	}
	reasons := res.Reasons
	if len(reasons) == 0 {
		reasons = []string{fmt.Sprintf("no regression against baseline job %d", baseID)}
	}
	return reviewPass, baseID, reasons
}

// decodeResult reads a job's result document.
func decodeResult(j store.Job) (pipeline.Artifact, error) {
	if len(j.Result) == 0 {
		return pipeline.Artifact{}, fmt.Errorf("job %d (%s) has no result", j.ID, j.Status)
	}
	return pipeline.Decode(j.Result)
}

func (sc *scheduler) updateReview(ctx context.Context, rv store.Review) {
	if err := sc.d.st.UpdateReview(ctx, rv); err != nil {
		sc.d.log.Error("update the review", "review", rv.ID, "err", err)
	}
}
