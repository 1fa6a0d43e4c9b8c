package server

import (
	"context"
	"encoding/json"
	"log/slog"
	"sync"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"

	"github.com/headroom-sre/headroom/capacity"
	"github.com/headroom-sre/headroom/correlate"
	"github.com/headroom-sre/headroom/generator"
	"github.com/headroom-sre/headroom/pipeline"
	"github.com/headroom-sre/headroom/profiles"
	"github.com/headroom-sre/headroom/store"
)

// storeTimeout bounds each write of a job's data.
const storeTimeout = 30 * time.Second

// recorder turns a job's hooks into store writes, events and metrics. Every
// window is written as it arrives, so a killed server loses at most the
// second in flight. The hooks may come from several goroutines: one lock
// for the figures, one writer goroutine for the store.
type recorder struct {
	d   deps
	a   *activeJob
	log *slog.Logger

	mu       sync.Mutex
	seq      int
	requests int64
	errors   int64
	iters    int64
	dropped  int64
	seconds  float64
	hist     *hdrhistogram.Histogram
	summary  any // the run's own summary, or a study's, once known
	findings []correlate.Finding

	writes  chan func() // the hooks' store writes, in order, for the writer
	written chan struct{}
}

func newRecorder(d deps, a *activeJob, log *slog.Logger) *recorder {
	r := &recorder{d: d, a: a, log: log, hist: generator.NewHistogram(),
		writes: make(chan func(), 256), written: make(chan struct{})}
	go r.writer()
	return r
}

// writer makes the hooks' writes on its own goroutine, so a slow store
// does not hold up the load (until 256 seconds are waiting).
func (r *recorder) writer() {
	defer close(r.written)
	for w := range r.writes {
		w()
	}
}

// hooks are the pipeline callbacks of the job: each hands its write to
// the writer and returns.
func (r *recorder) hooks() pipeline.Hooks {
	return pipeline.Hooks{
		OnWindow:  func(w pipeline.Window) { r.writes <- func() { r.window(w) } },
		OnEvent:   func(e capacity.Event) { r.writes <- func() { r.progress(e) } },
		OnStep:    func(st capacity.Step) { r.writes <- func() { r.step(st) } },
		OnPhase:   func(p string) { r.writes <- func() { r.phase(p) } },
		Warn:      func(msg string) { r.log.Warn("job warning", "msg", msg) },
		OnProfile: func(p profiles.Kept) { r.writes <- func() { r.profile(p) } },
	}
}

// ctx is a context for one store write: it outlives the job's own
// (cancelled) context, so a cancelled job still writes its end.
func (r *recorder) ctx() (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), storeTimeout)
}

// event appends one event for the job's streams and wakes them.
func (r *recorder) event(typ string, data any) {
	raw, err := json.Marshal(data)
	if err != nil {
		r.log.Error("encode event", "type", typ, "err", err)
		return
	}
	ctx, cancel := r.ctx()
	defer cancel()
	if _, err := r.d.st.AppendEvent(ctx, r.a.id, typ, raw); err != nil {
		r.log.Error("write event", "type", typ, "err", err)
	}
	r.d.live.notify(r.a.id)
}

// window writes one closed second: its rows (all requests, then each
// name), its event, and the live metrics.
func (r *recorder) window(w pipeline.Window) {
	start := time.Now()
	r.mu.Lock()
	seq := r.seq
	r.seq++
	r.requests += w.Requests
	r.errors += w.Errors
	r.iters += w.Iterations
	r.dropped += w.Dropped
	r.seconds += w.DurationS
	if h, err := w.Histogram(); err == nil {
		r.hist.Merge(h)
	}
	r.mu.Unlock()
	r.a.mu.Lock()
	r.a.windows++
	r.a.mu.Unlock()

	ctx, cancel := r.ctx()
	defer cancel()
	if err := r.d.st.AppendWindows(ctx, r.a.id, storeWindows(r.a.id, seq, w)); err != nil {
		r.log.Error("write window", "seq", seq, "err", err)
	}
	r.d.metrics.windows.Inc()
	r.d.metrics.load.add(r.a.id, w.SecondRecord)
	r.event("window", liveWindow(w))
	r.d.metrics.writeTime.Observe(time.Since(start).Seconds())
}

// storeWindows is a window as the store keeps it: one row for all
// requests (name "") and one per request name, each with its histogram.
func storeWindows(job int64, seq int, w pipeline.Window) []store.Window {
	all := store.Window{
		JobID: job, Seq: seq, Phase: w.Phase, Step: w.Step, Start: w.Start, DurationS: w.DurationS,
		Offered: w.Offered, Requests: w.Requests, Errors: w.Errors, Iterations: w.Iterations,
		Dropped: w.Dropped, InFlight: w.InFlight, VUs: w.VUs, Classes: w.Classes, HDR: []byte(w.HDR),
	}
	if len(w.Exemplars) > 0 {
		all.Exemplars, _ = json.Marshal(w.Exemplars)
	}
	ws := []store.Window{all}
	for _, n := range w.ByName {
		ws = append(ws, store.Window{
			JobID: job, Seq: seq, Phase: w.Phase, Step: w.Step, Name: n.Name, Start: w.Start,
			DurationS: w.DurationS, Requests: n.Requests, Errors: n.Errors, HDR: []byte(n.HDR),
		})
	}
	return ws
}

// progress records a study's step start or end.
func (r *recorder) progress(e capacity.Event) {
	r.event("phase", map[string]any{
		"phase": e.Phase, "step": e.Step, "rate": e.Rate, "low": e.Low, "high": e.High,
		"verdict": e.Verdict, "reasons": e.Reasons,
	})
}

// step stores a finished step of a study.
func (r *recorder) step(st capacity.Step) {
	raw, err := json.Marshal(st)
	if err != nil {
		r.log.Error("encode step", "err", err)
		return
	}
	r.a.mu.Lock()
	r.a.steps++
	r.a.mu.Unlock()
	ctx, cancel := r.ctx()
	defer cancel()
	if err := r.d.st.AddStep(ctx, r.a.id, st.Index, string(st.Phase), raw); err != nil {
		r.log.Error("write step", "step", st.Index, "err", err)
	}
	r.event("step", st)
}

// profile keeps one fetched profile with the job; one over the store's
// cap is not kept, and says so.
func (r *recorder) profile(p profiles.Kept) {
	ctx, cancel := r.ctx()
	defer cancel()
	_, err := r.d.st.AddProfile(ctx, r.a.id, store.Profile{Kind: string(p.Kind), Phase: p.Phase, Step: p.Step,
		Component: p.Component, Seconds: p.Span.Seconds(), Requests: p.Requests, FetchedAt: p.Start, Raw: p.Raw})
	if err != nil {
		r.log.Warn("profile not kept", "kind", p.Kind, "phase", p.Phase, "step", p.Step, "err", err)
	}
}

// phase records the job's new phase.
func (r *recorder) phase(name string) {
	r.a.mu.Lock()
	r.a.phase = name
	r.a.mu.Unlock()
	ctx, cancel := r.ctx()
	defer cancel()
	if err := r.d.st.SetPhase(ctx, r.a.id, name); err != nil {
		r.log.Error("write phase", "phase", name, "err", err)
	}
	r.event("phase", map[string]any{"phase": name})
}

// setRun keeps what a finished run adds to its job.
func (r *recorder) setRun(res *pipeline.RunResult, answer map[string]any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if res.Result != nil {
		r.summary = withAnswer(res.Summary, answer)
	}
	r.findings = res.Findings
}

// setStudy keeps what a finished study adds to its job.
func (r *recorder) setStudy(res *pipeline.StudyResult, answer map[string]any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	sum := r.loadSummary()
	for k, v := range answer {
		sum[k] = v
	}
	if res.Study != nil {
		sum["capacity"] = res.Capacity
		sum["recommendation"] = res.Recommendation
		sum["complete"] = res.Complete
	}
	r.summary = sum
	r.findings = res.Findings
}

// loadSummary is run.json's summary fields over every window so far.
// Called with r.mu held.
func (r *recorder) loadSummary() map[string]any {
	sum := map[string]any{
		"requests": r.requests, "errors": r.errors, "iterations": r.iters, "dropped_iterations": r.dropped,
		"error_rate": ratio(float64(r.errors), float64(r.requests)), "throughput_rps": ratio(float64(r.requests), r.seconds),
		"latency_ms": generator.LatencyOf(r.hist), "duration_s": r.seconds,
	}
	return sum
}

// finish writes the job's end: its findings, result and summary, a status
// event, then the status itself.
func (r *recorder) finish(status store.Status, doc any, cause error) {
	close(r.writes) // the pipeline has returned: no more hooks
	<-r.written
	msg := ""
	if cause != nil {
		msg = cause.Error()
	}
	var result json.RawMessage
	if doc != nil {
		raw, err := json.Marshal(doc)
		if err != nil {
			r.log.Error("encode result", "err", err)
		} else {
			result = raw
		}
	}
	r.mu.Lock()
	summary := r.summary
	if summary == nil {
		summary = r.loadSummary()
	}
	findings := r.findings
	r.mu.Unlock()
	sumRaw, _ := json.Marshal(summary)

	ctx, cancel := r.ctx()
	defer cancel()
	if len(findings) > 0 {
		docs := make([]json.RawMessage, 0, len(findings))
		for _, f := range findings {
			raw, _ := json.Marshal(f)
			docs = append(docs, raw)
		}
		if err := r.d.st.SetFindings(ctx, r.a.id, docs); err != nil {
			r.log.Error("write findings", "err", err)
		}
		for _, f := range findings {
			r.event("finding", f)
		}
	}
	r.event("status", map[string]any{"status": status, "error": msg})
	if err := r.d.st.FinishJob(ctx, r.a.id, status, sumRaw, result, msg); err != nil {
		r.log.Error("write job end", "status", status, "err", err)
	}
	r.d.live.notify(r.a.id)
	r.d.metrics.finished.WithLabelValues(string(r.a.kind), string(status)).Inc()
	r.log.Info("job finished", "status", status, "err", msg)
}

// ratio is a/b, 0 when b is 0.
func ratio(a, b float64) float64 {
	if b == 0 {
		return 0
	}
	return a / b
}
