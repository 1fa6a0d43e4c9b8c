package agent

import (
	"context"
	"errors"
	"fmt"
	"os"
	"slices"
	"sync"
	"time"

	"connectrpc.com/connect"
	"github.com/HdrHistogram/hdrhistogram-go"
	"google.golang.org/protobuf/proto"

	"github.com/headroom-sre/headroom/agent/merge"
	"github.com/headroom-sre/headroom/generator"
	"github.com/headroom-sre/headroom/plan"
	agentv1 "github.com/headroom-sre/headroom/proto/headroom/agent/v1"
	"github.com/headroom-sre/headroom/store"
)

// ErrAgentLost is wrapped by the error of a round one of whose agents
// disappeared: its share of the load stopped, so the run or step is
// invalid, and the job is aborted (the policy).
var ErrAgentLost = errors.New("agent lost")

// Timeouts of a round.
const (
	readyTimeout  = 30 * time.Second       // agents prepare their share
	startMargin   = 300 * time.Millisecond // from the last Ready to the agreed start, beyond twice the worst clock delay
	finishTimeout = 15 * time.Second       // after a stop or the profile's end, for the last windows
)

// Job is one job run on agents: it reserves them on its first round and
// runs each load the pipeline asks for (a run, or each step of a study)
// as a round. Close frees the agents.
type Job struct {
	f        *Fleet
	id       int64
	n        int
	yaml     []byte
	planFile string

	mu      sync.Mutex
	members []*member // by share index
	shards  []store.Shard
	rounds  int64
	cur     *round
	warned  map[string]bool
	failure error
}

// round is one agreed start of the job's agents.
type round struct {
	num      int64
	start    time.Time
	merger   *merge.Merger
	ready    map[int64]*agentv1.ReadyRequest
	finished map[int64]*agentv1.FinishRequest
	poke     chan struct{}
}

// Job prepares job id to run on n agents, with the plan's text (its
// file name, for errors, is planFile) sent to each.
func (f *Fleet) Job(id int64, n int, planFile string, yaml []byte) *Job {
	return &Job{f: f, id: id, n: n, planFile: planFile, yaml: yaml, warned: map[string]bool{}}
}

// Close ends the job on its agents (they are told the status) and frees them.
func (j *Job) Close(status string) {
	j.mu.Lock()
	ms := j.members
	j.mu.Unlock()
	j.f.release(j, ms, status)
	for _, m := range ms {
		_ = j.f.led.RenewAgent(context.Background(), m.id, store.AgentIdle, time.Now().Add(j.f.o.Lease))
	}
}

// Run runs one load on the job's agents as generator.Run would on this
// machine: opts.OnSecond gets the fleet's merged seconds, the plan's abort
// rules judge them, and the Result is the fleet's. An agent lost on the
// way ends the round with an error wrapping ErrAgentLost.
func (j *Job) Run(ctx context.Context, p *plan.Plan, opts generator.Options) (*generator.Result, error) {
	if p == nil {
		return nil, errors.New("agents: no plan")
	}
	load := p.Load
	if opts.Load != nil {
		load = *opts.Load
	}
	if err := j.reserveOnce(ctx); err != nil {
		return nil, err
	}
	r, err := j.prepare(ctx, p, load, opts)
	if err != nil {
		return nil, err
	}
	return j.drive(ctx, r, p, opts)
}

// reserveOnce reserves the job's agents on its first round.
func (j *Job) reserveOnce(ctx context.Context) error {
	j.mu.Lock()
	have := j.members != nil
	j.mu.Unlock()
	if have {
		return nil
	}
	ms, err := j.f.reserve(ctx, j, j.n)
	if err != nil {
		return err
	}
	shards := make([]store.Shard, len(ms))
	for i, m := range ms {
		shards[i] = store.Shard{JobID: j.id, AgentID: m.id, Index: i, Count: len(ms), Name: m.name, State: store.ShardAssigned}
		_ = j.f.led.RenewAgent(ctx, m.id, store.AgentBusy, time.Now().Add(j.f.o.Lease))
	}
	if err := j.f.led.PutShards(ctx, shards...); err != nil {
		return err
	}
	j.mu.Lock()
	j.members, j.shards = ms, shards
	j.mu.Unlock()
	j.f.o.Log.Info("agents reserved", "job", j.id, "agents", len(ms))
	return nil
}

// prepare sends each agent its share and waits until all are ready; it
// returns the round with its agreed start, the Start orders sent.
func (j *Job) prepare(ctx context.Context, p *plan.Plan, load plan.Load, opts generator.Options) (*round, error) {
	j.mu.Lock()
	j.rounds++
	r := &round{num: j.rounds, ready: map[int64]*agentv1.ReadyRequest{}, finished: map[int64]*agentv1.FinishRequest{}, poke: make(chan struct{}, 1)}
	j.cur = r
	ms := j.members
	j.mu.Unlock()

	lookup := opts.LookupEnv
	if lookup == nil {
		lookup = os.LookupEnv
	}
	env := map[string]string{}
	for _, n := range p.Target.Env {
		if v, ok := lookup(n); ok {
			env[n] = v
		}
	}
	share := load
	if share.MaxVUs > 0 { // each agent has its own pool: the fleet's stays the plan's
		share.MaxVUs = (share.MaxVUs + len(ms) - 1) / len(ms)
	}
	for i, m := range ms {
		files, rows, err := shardData(p, i, len(ms))
		if err != nil {
			return nil, &plan.Error{File: p.File, Field: "data", Msg: err.Error()}
		}
		j.mu.Lock()
		j.shards[i].Rows = rows
		j.mu.Unlock()
		m.send(&agentv1.Assignment{Order: &agentv1.Assignment_Share{Share: &agentv1.Share{
			JobId: j.id, Round: r.num, Index: int32(i), Count: int32(len(ms)), PlanFile: j.planFile, PlanYaml: j.yaml,
			BaseUrl: opts.BaseURL, Load: loadToWire(&share), MaxRate: p.Abort.MaxRate, Data: files, Env: env,
		}}})
	}
	timeout := time.NewTimer(readyTimeout)
	defer timeout.Stop()
	for {
		j.mu.Lock()
		n := len(r.ready)
		var failed []string
		var worst time.Duration
		for _, m := range ms {
			if rd := r.ready[m.id]; rd != nil {
				if rd.GetError() != "" {
					failed = append(failed, fmt.Sprintf("agent %q: %s", m.name, rd.GetError()))
				}
				worst = max(worst, time.Duration(rd.GetDelayNs()))
			}
		}
		j.mu.Unlock()
		if len(failed) > 0 {
			j.stopAll(r, "a share could not be prepared")
			return nil, fmt.Errorf("agents could not prepare round %d: %v", r.num, failed)
		}
		if n == len(ms) {
			start := time.Now().Add(startMargin + 2*worst)
			j.mu.Lock()
			r.start = start
			keys := make([]string, len(ms))
			for i, m := range ms {
				keys[i] = agentKey(m.id)
			}
			mg, err := merge.New(merge.Options{Agents: keys, Start: start})
			if err != nil {
				j.mu.Unlock()
				return nil, err
			}
			r.merger = mg
			for i := range j.shards {
				j.shards[i].State = store.ShardRunning
			}
			j.mu.Unlock()
			for _, m := range ms {
				m.send(&agentv1.Assignment{Order: &agentv1.Assignment_Start{Start: &agentv1.Start{JobId: j.id, Round: r.num, AtUnixNs: start.UnixNano()}}})
			}
			_ = j.f.led.PutRound(ctx, store.Round{JobID: j.id, Round: r.num, Agents: len(ms), StartUS: start.UnixMicro()})
			return r, nil
		}
		if m := j.f.lost(ms); m != nil {
			return nil, j.lostErr(ctx, r, m, -1)
		}
		select {
		case <-ctx.Done():
			j.stopAll(r, "cancelled")
			return nil, fmt.Errorf("preparing round %d: %w", r.num, context.Cause(ctx))
		case <-timeout.C:
			j.stopAll(r, "not ready in time")
			return nil, fmt.Errorf("round %d: %d of %d agents ready after %s", r.num, n, len(ms), readyTimeout)
		case <-r.poke:
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// drive merges the round's seconds as they complete until every agent has
// finished, an abort rule fires, ctx ends (the agents are stopped and
// their last windows awaited) or an agent is lost.
func (j *Job) drive(ctx context.Context, r *round, p *plan.Plan, opts generator.Options) (*generator.Result, error) {
	acc := newAccumulator(r.start)
	watch := generator.NewAbortWatch(p.Abort)
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	j.mu.Lock()
	ms := j.members
	j.mu.Unlock()
	j.saveShards(ctx)
	saved := time.Now()
	var stopAt time.Time // when the agents were told to stop
	done := ctx.Done()
	deliver := func(secs []merge.Second) error {
		for _, s := range secs {
			if len(s.Missing) > 0 {
				if m := j.f.lost(ms); m != nil {
					return j.lostErr(ctx, r, m, s.Index)
				}
				if stopAt.IsZero() && !j.allFinished(r, ms) {
					return j.lateErr(ctx, r, j.memberByKey(ms, s.Missing[0]), s.Index)
				}
			}
			j.notice(r, s, opts)
			if opts.OnSecond != nil {
				opts.OnSecond(s.Second)
			}
			acc.add(s.Second)
			if why := watch.Observe(s.Second); why != "" && acc.aborted == "" {
				acc.aborted = why
				j.stopAll(r, "abort: "+why)
				stopAt = time.Now()
			}
		}
		return nil
	}
	for {
		select {
		case <-done:
			done = nil
			if stopAt.IsZero() {
				j.stopAll(r, "stopped by the server")
				stopAt = time.Now()
			}
		case <-r.poke:
		case <-tick.C:
		}
		if time.Since(saved) >= time.Second {
			j.saveShards(ctx)
			saved = time.Now()
		}
		if err := deliver(r.merger.Ready(time.Now())); err != nil {
			return nil, err
		}
		if j.allFinished(r, ms) {
			if err := deliver(r.merger.Flush()); err != nil {
				return nil, err
			}
			break
		}
		if m := j.f.lost(ms); m != nil {
			return nil, j.lostErr(ctx, r, m, acc.seconds())
		}
		if !stopAt.IsZero() && time.Since(stopAt) > finishTimeout {
			return nil, j.lostErr(ctx, r, j.unfinished(r, ms), acc.seconds())
		}
	}
	j.closeRound(ctx, r)
	res := acc.result()
	if j.capped(r) {
		res.CappedAt = p.Abort.MaxRate // the fleet's: each agent held its share of it
	}
	return res, nil
}

// capped reports whether abort.max_rate held any agent's share of the
// round back, as generator.Result.CappedAt says of one generator.
func (j *Job) capped(r *round) bool {
	j.mu.Lock()
	defer j.mu.Unlock()
	for _, fin := range r.finished {
		if fin.GetCapped() {
			return true
		}
	}
	return false
}

// notice warns once of an agent that fell behind (generator-limited) or
// departs from the fleet (an outlier), and keeps the outlier's statement
// on its shard for the job's page.
func (j *Job) notice(r *round, s merge.Second, opts generator.Options) {
	warn := opts.Warn
	if warn == nil {
		warn = func(string) {}
	}
	for _, a := range s.PerAgent {
		if a.Window.Dropped > 0 && !j.warned["behind "+a.Window.Agent] {
			j.warned["behind "+a.Window.Agent] = true
			warn(fmt.Sprintf("agent %s fell behind its share of the schedule (%d iterations dropped at second %d): generator-limited, not the service", j.agentLabel(a.Window.Agent), a.Window.Dropped, s.Index))
		}
	}
	for _, o := range s.Outliers {
		j.mu.Lock()
		for i, m := range j.members {
			if agentKey(m.id) == o.Agent {
				j.shards[i].Outlier = outlierStatement(o, r.num)
			}
		}
		j.mu.Unlock()
		if !j.warned["outlier "+o.Agent] {
			j.warned["outlier "+o.Agent] = true
			warn(fmt.Sprintf("agent %s departs from the fleet: its %s %.1f ms against the others' %.1f ms for %d s (a noisy neighbour or a bad agent)", j.agentLabel(o.Agent), o.Stat, o.AgentMs, o.FleetMs, o.Seconds))
		}
	}
}

// agentLabel names an agent by the merger's key (its id) as a person
// knows it: `"load-2" (id 7)`, or the bare id when no member has it.
func (j *Job) agentLabel(key string) string {
	j.mu.Lock()
	defer j.mu.Unlock()
	for _, m := range j.members {
		if agentKey(m.id) == key && m.name != "" {
			return fmt.Sprintf("%q (id %d)", m.name, m.id)
		}
	}
	return key
}

// outlierStatement says what flagged an agent, with its latest figures:
// "p99 41.2 ms against the fleet's 10.3 ms for 3 s from second 4", and the
// round when a job has several (a study's steps).
func outlierStatement(o merge.Outlier, round int64) string {
	st := fmt.Sprintf("%s %.1f ms against the fleet's %.1f ms for %d s from second %d", o.Stat, o.AgentMs, o.FleetMs, o.Seconds, o.Since)
	if round > 1 {
		st += fmt.Sprintf(" of round %d", round)
	}
	return st
}

// ready records an agent's Ready for the current round.
func (j *Job) ready(m *member, rd *agentv1.ReadyRequest) {
	j.mu.Lock()
	defer j.mu.Unlock()
	r := j.cur
	if r == nil || r.num != rd.GetRound() {
		return
	}
	r.ready[m.id] = rd
	if i := j.index(m); i >= 0 {
		j.shards[i].OffsetMs = float64(rd.GetOffsetNs()) / 1e6
		j.shards[i].DelayMs = float64(rd.GetDelayNs()) / 1e6
	}
	r.wake()
}

// windows keeps an agent's windows once and merges the new ones.
func (j *Job) windows(ctx context.Context, m *member, req *agentv1.PushWindowsRequest) (int64, error) {
	j.mu.Lock()
	r := j.cur
	j.mu.Unlock()
	if r == nil || r.num != req.GetRound() || r.merger == nil {
		return 0, connect.NewError(connect.CodeFailedPrecondition, fmt.Errorf("round %d of job %d is not running", req.GetRound(), j.id))
	}
	var acked int64 = -1
	for _, w := range req.GetWindows() {
		doc, err := proto.Marshal(w)
		if err != nil {
			return 0, connect.NewError(connect.CodeInvalidArgument, err)
		}
		added, err := j.f.led.IngestWindow(ctx, store.AgentWindow{JobID: j.id, AgentID: m.id, Round: r.num, Second: w.GetSeq(), Seq: w.GetSeq(), Doc: doc})
		if err != nil {
			return 0, connect.NewError(connect.CodeInternal, err)
		}
		acked = max(acked, w.GetSeq())
		if !added {
			continue
		}
		mw := windowFromWire(agentKey(m.id), w)
		if _, err := r.merger.Add(mw); err != nil {
			return 0, connect.NewError(connect.CodeInvalidArgument, fmt.Errorf("window %d: %w", w.GetSeq(), err))
		}
		j.mu.Lock()
		if i := j.index(m); i >= 0 {
			j.shards[i].Requests += mw.Total.Requests
			j.shards[i].Dropped += mw.Dropped
			j.shards[i].Windows++
		}
		j.mu.Unlock()
	}
	r.wake()
	return acked, nil
}

// finish records the end of an agent's share of the current round.
func (j *Job) finish(m *member, fin *agentv1.FinishRequest) {
	j.mu.Lock()
	defer j.mu.Unlock()
	r := j.cur
	if r == nil || r.num != fin.GetRound() {
		return
	}
	r.finished[m.id] = fin
	if i := j.index(m); i >= 0 && fin.GetError() != "" {
		j.shards[i].Error = fin.GetError()
	}
	r.wake()
}

func (r *round) wake() {
	select {
	case r.poke <- struct{}{}:
	default:
	}
}

// index is m's share index; j.mu is held.
func (j *Job) index(m *member) int {
	for i, x := range j.members {
		if x == m {
			return i
		}
	}
	return -1
}

func (j *Job) allFinished(r *round, ms []*member) bool {
	j.mu.Lock()
	defer j.mu.Unlock()
	return len(r.finished) == len(ms)
}

func (j *Job) unfinished(r *round, ms []*member) *member {
	j.mu.Lock()
	defer j.mu.Unlock()
	for _, m := range ms {
		if r.finished[m.id] == nil {
			return m
		}
	}
	return ms[0]
}

func (j *Job) memberByKey(ms []*member, key string) *member {
	for _, m := range ms {
		if agentKey(m.id) == key {
			return m
		}
	}
	return ms[0]
}

// stopAll tells the round's agents to stop.
func (j *Job) stopAll(r *round, reason string) {
	j.mu.Lock()
	ms := j.members
	j.mu.Unlock()
	for _, m := range ms {
		m.send(&agentv1.Assignment{Order: &agentv1.Assignment_Stop{Stop: &agentv1.Stop{JobId: j.id, Round: r.num, Reason: reason}}})
	}
}

// lostErr stops the round, marks m's share lost in the ledger and returns
// the error that aborts the job.
func (j *Job) lostErr(ctx context.Context, r *round, m *member, second int64) error {
	at := "while the round was being prepared"
	if second >= 0 {
		at = fmt.Sprintf("at second %d", second)
	}
	return j.fail(ctx, r, m, "disappeared "+at)
}

// lateErr is lostErr for an agent that is connected but did not report a
// second within the merge's grace: the second is short all the same.
func (j *Job) lateErr(ctx context.Context, r *round, m *member, second int64) error {
	return j.fail(ctx, r, m, fmt.Sprintf("did not report second %d within the grace", second))
}

func (j *Job) fail(ctx context.Context, r *round, m *member, what string) error {
	j.stopAll(r, fmt.Sprintf("agent %q was lost", m.name))
	j.mu.Lock()
	i := j.index(m)
	err := fmt.Errorf("%w: agent %q (id %d, share %d of %d) %s of round %d: the fleet was short of its share of the load from then on, so this step is invalid; policy: abort the job",
		ErrAgentLost, m.name, m.id, i+1, len(j.members), what, r.num)
	if i >= 0 {
		j.shards[i].State, j.shards[i].Error = store.ShardLost, err.Error()
	}
	j.failure = err
	shards := append([]store.Shard(nil), j.shards...)
	j.mu.Unlock()
	_ = j.f.led.PutShards(context.WithoutCancel(ctx), shards...)
	j.f.o.Log.Warn("agent lost", "job", j.id, "agent", m.id, "round", r.num, "what", what)
	return err
}

// closeRound writes the round's start spread and the shards' figures.
func (j *Job) closeRound(ctx context.Context, r *round) {
	j.mu.Lock()
	var lo, hi time.Time
	for i, m := range j.members {
		fin, rd := r.finished[m.id], r.ready[m.id]
		if fin == nil || rd == nil || fin.GetStartedUnixNs() == 0 {
			continue
		}
		at := time.Unix(0, fin.GetStartedUnixNs()+rd.GetOffsetNs())
		if lo.IsZero() || at.Before(lo) {
			lo = at
		}
		if at.After(hi) {
			hi = at
		}
		if j.shards[i].State == store.ShardRunning {
			j.shards[i].State = store.ShardDone
		}
	}
	shards := append([]store.Shard(nil), j.shards...)
	n := len(j.members)
	j.mu.Unlock()
	rd := store.Round{JobID: j.id, Round: r.num, Agents: n, StartUS: r.start.UnixMicro()}
	if !lo.IsZero() {
		spread := float64(hi.Sub(lo).Microseconds()) / 1000
		rd.SpreadMs = &spread
	}
	ctx = context.WithoutCancel(ctx)
	_ = j.f.led.PutRound(ctx, rd)
	_ = j.f.led.PutShards(ctx, shards...)
}

// saveShards writes the shards' figures so far, for the job's page.
func (j *Job) saveShards(ctx context.Context) {
	j.mu.Lock()
	shards := append([]store.Shard(nil), j.shards...)
	j.mu.Unlock()
	if err := j.f.led.PutShards(context.WithoutCancel(ctx), shards...); err != nil {
		j.f.o.Log.Warn("write a job's shards", "job", j.id, "err", err)
	}
}

// accumulator builds the fleet's Result from its merged seconds.
type accumulator struct {
	start   time.Time
	end     time.Time
	recs    []generator.SecondRecord
	all     *hdrhistogram.Histogram
	total   generator.Summary
	byName  map[string]*nameAcc
	order   []string
	aborted string
}

type nameAcc struct {
	s    generator.Summary
	hist *hdrhistogram.Histogram
}

func newAccumulator(start time.Time) *accumulator {
	return &accumulator{start: start, end: start, all: generator.NewHistogram(), byName: map[string]*nameAcc{}}
}

func (a *accumulator) seconds() int64 { return int64(len(a.recs)) }

func (a *accumulator) add(s generator.Second) {
	a.recs = append(a.recs, generator.Record(s))
	if e := s.Start.Add(s.Duration); e.After(a.end) {
		a.end = e
	}
	addSummary(&a.total, s.Total)
	a.total.Iterations += s.Iterations
	a.total.DroppedIterations += s.Dropped
	if s.Total.Hist != nil {
		a.all.Merge(s.Total.Hist)
	}
	for _, w := range s.ByName {
		n := a.byName[w.Name]
		if n == nil {
			n = &nameAcc{s: generator.Summary{Name: w.Name}, hist: generator.NewHistogram()}
			a.byName[w.Name] = n
			a.order = append(a.order, w.Name)
		}
		addSummary(&n.s, w)
		if w.Hist != nil {
			n.hist.Merge(w.Hist)
		}
	}
}

func addSummary(s *generator.Summary, w generator.Window) {
	s.Requests += w.Requests
	s.Errors += w.Errors
	s.Bytes += w.Bytes
	for k, v := range w.Classes {
		if s.Classes == nil {
			s.Classes = map[string]int64{}
		}
		s.Classes[k] += v
	}
}

func finishSummary(s *generator.Summary, h *hdrhistogram.Histogram, d time.Duration) {
	s.Latency = generator.LatencyOf(h)
	if s.Requests > 0 {
		s.ErrorRate = float64(s.Errors) / float64(s.Requests)
	}
	if d > 0 {
		s.ThroughputRPS = float64(s.Requests) / d.Seconds()
	}
}

func (a *accumulator) result() *generator.Result {
	d := a.end.Sub(a.start)
	r := &generator.Result{Start: a.start, End: a.end, Seconds: a.recs, Aborted: a.aborted, Hist: a.all, Summary: a.total}
	if r.Seconds == nil {
		r.Seconds = []generator.SecondRecord{}
	}
	finishSummary(&r.Summary, a.all, d)
	names := slices.Sorted(slices.Values(a.order))
	for _, n := range names {
		na := a.byName[n]
		finishSummary(&na.s, na.hist, d)
		r.ByName = append(r.ByName, na.s)
	}
	return r
}
