package server

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/headroom-sre/headroom/store"
)

// A review's webhook status: none, pending, delivered, or failed / refused
// followed by ": " and why.
const (
	webhookNone      = "none"
	webhookPending   = "pending"
	webhookDelivered = "delivered"
	webhookFailed    = "failed"
	webhookRefused   = "refused"
)

// webhookMessage is what a review POSTs: Slack's incoming-webhook shape
// (text and blocks) and the review's data under "headroom" for other
// receivers.
type webhookMessage struct {
	Text     string        `json:"text"`
	Blocks   []slackBlock  `json:"blocks"`
	Headroom webhookReview `json:"headroom"`
}

type slackBlock struct {
	Type     string      `json:"type"`
	Text     *slackText  `json:"text,omitempty"`
	Elements []slackText `json:"elements,omitempty"`
}

type slackText struct {
	Type string `json:"type"`
	Text string `json:"text"`
}

// webhookReview is the review as data.
type webhookReview struct {
	ReviewID      int64           `json:"review_id"`
	ScheduleID    int64           `json:"schedule_id"`
	PlanID        int64           `json:"plan_id"`
	Plan          string          `json:"plan"`
	Kind          string          `json:"kind"`
	JobID         int64           `json:"job_id,omitempty"`
	BaselineJobID int64           `json:"baseline_job_id,omitempty"`
	Verdict       string          `json:"verdict"`
	Reasons       []string        `json:"reasons"`
	Summary       json.RawMessage `json:"summary,omitempty"`
	Link          string          `json:"link"`
	At            time.Time       `json:"at"`
}

// reviewMessage builds the webhook of review rv of schedule s.
func reviewMessage(link, planName string, s store.Schedule, rv store.Review, summary json.RawMessage) webhookMessage {
	if planName == "" {
		planName = fmt.Sprintf("plan %d", s.PlanID)
	}
	target := link + "/schedules/" + strconv.FormatInt(s.ID, 10)
	if rv.JobID != 0 {
		target = link + "/jobs/" + strconv.FormatInt(rv.JobID, 10)
	}
	icon := map[string]string{reviewPass: ":white_check_mark:", reviewRegression: ":warning:", reviewFail: ":x:"}[rv.Verdict]
	head := fmt.Sprintf("%s Headroom readiness review of *%s* (%s): *%s*", icon, slackEscape(planName), slackEscape(s.Kind), rv.Verdict)
	if rv.BaselineJobID != 0 {
		head += fmt.Sprintf(" against baseline job %d", rv.BaselineJobID)
	}
	if line := summaryLine(summary); line != "" {
		head += "\n" + slackEscape(line)
	}
	reasons := rv.Reasons
	if reasons == nil {
		reasons = []string{}
	}
	var bullets strings.Builder
	for _, r := range reasons {
		bullets.WriteString("• " + slackEscape(r) + "\n")
	}
	blocks := []slackBlock{{Type: "section", Text: &slackText{Type: "mrkdwn", Text: head}}}
	if bullets.Len() > 0 {
		blocks = append(blocks, slackBlock{Type: "section", Text: &slackText{Type: "mrkdwn", Text: strings.TrimSpace(bullets.String())}})
	}
	what := "the schedule"
	if rv.JobID != 0 {
		what = fmt.Sprintf("job %d", rv.JobID)
	}
	blocks = append(blocks, slackBlock{Type: "context", Elements: []slackText{{Type: "mrkdwn", Text: fmt.Sprintf("<%s|Open %s in Headroom>", target, what)}}})
	return webhookMessage{
		Text:   fmt.Sprintf("%s — %s", head, target),
		Blocks: blocks,
		Headroom: webhookReview{ReviewID: rv.ID, ScheduleID: s.ID, PlanID: s.PlanID, Plan: planName, Kind: s.Kind,
			JobID: rv.JobID, BaselineJobID: rv.BaselineJobID, Verdict: rv.Verdict, Reasons: reasons,
			Summary: summary, Link: target, At: rv.Created},
	}
}

// slackEscaper escapes the three characters Slack reads as control
// sequences (<!channel>, <@user>, <http://x|a link>) and entities; a
// plan's name and the reasons are text.
var slackEscaper = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;")

// slackEscape is s safe inside a Slack mrkdwn or plain text field.
func slackEscape(s string) string { return slackEscaper.Replace(s) }

// summaryLine is the job summary's headline figures, "" when it has none.
func summaryLine(raw json.RawMessage) string {
	var sum struct {
		Requests      *int64   `json:"requests"`
		ThroughputRPS *float64 `json:"throughput_rps"`
		ErrorRate     *float64 `json:"error_rate"`
		LatencyMS     *struct {
			P99 float64 `json:"p99"`
		} `json:"latency_ms"`
		Capacity *struct {
			SingleInstanceRPS float64 `json:"single_instance_rps"`
		} `json:"capacity"`
	}
	if len(raw) == 0 || json.Unmarshal(raw, &sum) != nil {
		return ""
	}
	var parts []string
	if sum.Requests != nil {
		parts = append(parts, fmt.Sprintf("%d requests", *sum.Requests))
	}
	if sum.ThroughputRPS != nil {
		parts = append(parts, fmt.Sprintf("%.1f req/s", *sum.ThroughputRPS))
	}
	if sum.LatencyMS != nil {
		parts = append(parts, fmt.Sprintf("p99 %.1f ms", sum.LatencyMS.P99))
	}
	if sum.ErrorRate != nil {
		parts = append(parts, fmt.Sprintf("errors %.2f%%", 100**sum.ErrorRate))
	}
	if sum.Capacity != nil && sum.Capacity.SingleInstanceRPS > 0 {
		parts = append(parts, fmt.Sprintf("capacity %.1f req/s per instance", sum.Capacity.SingleInstanceRPS))
	}
	return strings.Join(parts, ", ")
}

// deliver POSTs msg to the schedule's webhook, retrying with exponential
// backoff on network errors, 408, 429 and 5xx (a Retry-After in seconds is
// honoured, up to maxWait), and records each attempt on the review.
func (sc *scheduler) deliver(ctx context.Context, s store.Schedule, rv store.Review, msg webhookMessage) store.Review {
	log := sc.d.log.With("schedule", s.ID, "review", rv.ID)
	wctx := context.WithoutCancel(ctx)
	if err := sc.checkWebhook(s.Webhook); err != nil {
		rv.WebhookStatus = webhookRefused + ": " + err.Error()
		sc.updateReview(wctx, rv)
		log.Warn("webhook refused", "err", err)
		return rv
	}
	body, err := json.Marshal(msg)
	if err != nil {
		rv.WebhookStatus = webhookFailed + ": " + err.Error()
		sc.updateReview(wctx, rv)
		return rv
	}
	wait := sc.backoff
	for {
		rv.WebhookAttempts++
		retry, after, err := sc.post(ctx, s.Webhook, body)
		switch {
		case err == nil:
			rv.WebhookStatus = webhookDelivered
		case !retry || rv.WebhookAttempts >= sc.retries:
			rv.WebhookStatus = fmt.Sprintf("%s: %v (after %d attempts)", webhookFailed, err, rv.WebhookAttempts)
		default:
			rv.WebhookStatus = fmt.Sprintf("%s: %v (attempt %d of %d, retrying)", webhookPending, err, rv.WebhookAttempts, sc.retries)
		}
		sc.updateReview(wctx, rv)
		if err == nil {
			log.Info("webhook delivered", "attempts", rv.WebhookAttempts)
			return rv
		}
		if !strings.HasPrefix(rv.WebhookStatus, webhookPending) {
			log.Warn("webhook not delivered", "attempts", rv.WebhookAttempts, "err", err)
			return rv
		}
		d := wait
		if after > d {
			d = after
		}
		d = min(d, sc.maxWait)
		t := time.NewTimer(d)
		select {
		case <-ctx.Done():
			t.Stop()
			rv.WebhookStatus = fmt.Sprintf("%s: %v; the server shut down before the next attempt", webhookFailed, err)
			sc.updateReview(wctx, rv)
			return rv
		case <-t.C:
		}
		wait = min(2*wait, sc.maxWait)
	}
}

// post sends one attempt; it says whether a failure is worth retrying and
// how long the receiver asked to wait.
func (sc *scheduler) post(ctx context.Context, dest string, body []byte) (retry bool, after time.Duration, err error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, dest, bytes.NewReader(body))
	if err != nil {
		return false, 0, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "headroom-webhook")
	resp, err := sc.client.Do(req)
	if err != nil {
		return ctx.Err() == nil, 0, err // a network error is worth another try
	}
	defer resp.Body.Close()
	io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		return false, 0, nil
	}
	err = fmt.Errorf("HTTP %d", resp.StatusCode)
	switch {
	case resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode == http.StatusRequestTimeout || resp.StatusCode >= 500:
		if secs, perr := strconv.Atoi(resp.Header.Get("Retry-After")); perr == nil && secs > 0 {
			after = time.Duration(secs) * time.Second
		}
		return true, after, err
	}
	return false, 0, err
}
