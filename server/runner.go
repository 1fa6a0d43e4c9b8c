package server

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/headroom-sre/headroom/pipeline"
	"github.com/headroom-sre/headroom/plan"
	"github.com/headroom-sre/headroom/store"
)

// errShutdown is the cause of a job cancelled because its server stops.
var errShutdown = errors.New("the server shut down")

// errCancelRequested is the cause of a job cancelled through the API.
var errCancelRequested = errors.New("cancel requested")

// runner claims queued jobs from the store and runs them: at most
// Config.MaxJobs at once and one per target host, across every server on
// the same store. Its state is this struct; one goroutine per job.
type runner struct {
	d    deps
	wake chan struct{}
	wg   sync.WaitGroup

	mu       sync.Mutex
	active   map[int64]*activeJob
	stopping bool
}

// activeJob is what the runner knows of a job it runs.
type activeJob struct {
	id      int64
	kind    pipeline.Kind
	target  string
	started time.Time
	cancel  context.CancelCauseFunc

	mu      sync.Mutex
	phase   string
	windows int
	steps   int
}

// progress is the live part of a job the API shows while it runs.
type progress struct {
	Phase     string  `json:"phase"`
	Windows   int     `json:"windows"`
	Steps     int     `json:"steps"`
	ElapsedS  float64 `json:"elapsed_s"`
	RunningOn string  `json:"running_on"`
}

func newRunner(d deps) *runner {
	return &runner{d: d, wake: make(chan struct{}, 1), active: map[int64]*activeJob{}}
}

// poke makes the loop look for queued jobs now.
func (r *runner) poke() {
	select {
	case r.wake <- struct{}{}:
	default:
	}
}

// loop claims and watches jobs until ctx ends, then waits for the running
// ones (shutdown has cancelled them).
func (r *runner) loop(ctx context.Context) {
	t := time.NewTicker(r.d.poll)
	defer t.Stop()
	for {
		r.claim(ctx)
		r.watchCancels(ctx)
		select {
		case <-ctx.Done():
			r.wg.Wait()
			return
		case <-r.wake:
		case <-t.C:
		}
	}
}

// shutdown stops claiming, cancels every running job and waits for each
// to write its end.
func (r *runner) shutdown() {
	r.mu.Lock()
	r.stopping = true
	for _, a := range r.active {
		a.cancel(errShutdown)
	}
	r.mu.Unlock()
	r.wg.Wait()
}

// claim starts queued jobs while this server has room.
func (r *runner) claim(ctx context.Context) {
	for {
		r.mu.Lock()
		full := r.stopping || len(r.active) >= r.d.maxJobs
		r.mu.Unlock()
		if full {
			return
		}
		busy, err := r.busyTargets(ctx)
		if err != nil {
			r.d.log.Error("list running jobs", "err", err)
			return
		}
		job, err := r.d.st.ClaimJob(ctx, r.d.owner, busy)
		if err != nil {
			if ctx.Err() == nil {
				r.d.log.Error("claim a job", "err", err)
			}
			return
		}
		if job == nil {
			return
		}
		r.start(ctx, *job)
	}
}

// busyTargets are the targets of every job running on any server.
func (r *runner) busyTargets(ctx context.Context) ([]string, error) {
	jobs, _, err := r.d.st.ListJobs(ctx, store.JobFilter{Status: store.Running, Limit: 1000})
	if err != nil {
		return nil, err
	}
	seen := map[string]bool{}
	var busy []string
	add := func(t string) {
		if t != "" && !seen[t] {
			seen[t] = true
			busy = append(busy, t)
		}
	}
	for _, j := range jobs {
		add(j.Target)
	}
	r.mu.Lock()
	for _, a := range r.active {
		add(a.target)
	}
	r.mu.Unlock()
	return busy, nil
}

// watchCancels cancels the running jobs whose cancel was requested in the
// store (by this server's API or another's).
func (r *runner) watchCancels(ctx context.Context) {
	r.mu.Lock()
	ids := make([]int64, 0, len(r.active))
	for id := range r.active {
		ids = append(ids, id)
	}
	r.mu.Unlock()
	for _, id := range ids {
		j, err := r.d.st.GetJob(ctx, id)
		if err != nil || !j.CancelRequested {
			continue
		}
		r.cancel(id)
	}
}

// cancel stops a job this server runs; false when it runs elsewhere (or
// not at all).
func (r *runner) cancel(id int64) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	a := r.active[id]
	if a == nil {
		return false
	}
	a.cancel(errCancelRequested)
	return true
}

// progressOf is the live progress of a job this server runs, nil otherwise.
func (r *runner) progressOf(id int64) *progress {
	r.mu.Lock()
	a := r.active[id]
	r.mu.Unlock()
	if a == nil {
		return nil
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	return &progress{Phase: a.phase, Windows: a.windows, Steps: a.steps,
		ElapsedS: time.Since(a.started).Seconds(), RunningOn: r.d.owner}
}

// start runs a claimed job on its own goroutine.
func (r *runner) start(ctx context.Context, job store.Job) {
	jctx, cancel := context.WithCancelCause(context.WithoutCancel(ctx))
	a := &activeJob{id: job.ID, kind: pipeline.Kind(job.Kind), target: job.Target, started: time.Now(), cancel: cancel}
	r.mu.Lock()
	r.active[job.ID] = a
	r.mu.Unlock()
	r.d.metrics.running.Inc()
	r.wg.Add(1)
	go func() {
		defer r.wg.Done()
		defer func() {
			cancel(nil)
			r.mu.Lock()
			delete(r.active, job.ID)
			r.mu.Unlock()
			r.d.metrics.running.Dec()
			r.d.metrics.load.remove(job.ID)
			r.poke() // its target is free: a queued job may start
		}()
		r.run(jctx, a, job)
	}()
}

// run drives one job from claimed to finished.
func (r *runner) run(ctx context.Context, a *activeJob, job store.Job) {
	log := r.d.log.With("job", job.ID, "kind", job.Kind, "target", job.Target)
	rec := newRecorder(r.d, a, log)
	if job.CancelRequested {
		rec.finish(store.Cancelled, nil, errCancelRequested)
		return
	}
	rec.event("status", map[string]any{"status": store.Running})
	log.Info("job started")

	p, settings, err := r.d.jobs.prepare(context.WithoutCancel(ctx), job)
	if err != nil {
		rec.finish(store.Failed, nil, err)
		return
	}
	if cause := context.Cause(ctx); cause != nil {
		rec.finish(store.Cancelled, nil, cause)
		return
	}
	hooks := rec.hooks()
	if settings.Agents > 0 {
		engine, closeAgents, aerr := r.agentEngine(ctx, job, settings.Agents)
		if aerr != nil {
			rec.finish(store.Failed, nil, aerr)
			return
		}
		hooks.Engine = engine
		defer func() { closeAgents(rec.final) }()
	}
	var doc any
	var outcome pipeline.Outcome
	switch a.kind {
	case pipeline.KindRun:
		res, rerr := pipeline.Run(ctx, p, settings, hooks)
		err = rerr
		if res != nil {
			doc, outcome = res, res.Outcome
			rec.setRun(res, r.d.answerOf(ctx, job, pipeline.Artifact{Kind: pipeline.KindRun, Run: res}, p))
		}
	case pipeline.KindStudy:
		res, rerr := pipeline.Study(ctx, p, settings, hooks)
		err = rerr
		if res != nil {
			doc, outcome = res, res.Outcome
			rec.setStudy(res, r.d.answerOf(ctx, job, pipeline.Artifact{Kind: pipeline.KindStudy, Study: res}, p))
		}
	default:
		err = fmt.Errorf("unknown job kind %q", job.Kind)
	}
	if err != nil {
		status := store.Failed
		if cause := context.Cause(ctx); cause != nil && doc == nil {
			status, err = store.Cancelled, cause
		}
		rec.finish(status, doc, err)
		return
	}
	status := jobStatus(outcome)
	if cause := context.Cause(ctx); cause != nil && status != store.Cancelled {
		status = store.Cancelled // cancelled just as it ended
	}
	if status == store.Cancelled {
		err = context.Cause(ctx)
	}
	rec.finish(status, doc, err)
}

// prepare reads the job's plan version and settings and checks them
// again: the allow-list or the plan may have changed while it was queued.
func (s *Server) prepare(ctx context.Context, job store.Job) (*plan.Plan, pipeline.Settings, error) {
	var settings pipeline.Settings
	if len(job.Settings) > 0 {
		if err := json.Unmarshal(job.Settings, &settings); err != nil {
			return nil, settings, fmt.Errorf("settings: %w", err)
		}
	}
	_, p, err := s.loadPlan(ctx, job.PlanID, job.PlanVersion)
	if err != nil {
		return nil, settings, fmt.Errorf("plan %d version %d: %w", job.PlanID, job.PlanVersion, err)
	}
	if settings, err = s.checkSettings(settings); err != nil {
		return nil, settings, err
	}
	if err := s.checkSettingsURLs(p, settings); err != nil {
		return nil, settings, err
	}
	return p, settings, nil
}

// jobStatus is the job status an outcome becomes.
func jobStatus(o pipeline.Outcome) store.Status {
	switch o {
	case pipeline.Passed:
		return store.Passed
	case pipeline.Failed:
		return store.Failed
	case pipeline.Aborted:
		return store.Aborted
	case pipeline.Cancelled:
		return store.Cancelled
	}
	return store.Failed
}

// planFile is the file name plan errors of a stored plan carry.
func planFile(name string) string { return name + ".yaml" }
