package agent

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"connectrpc.com/connect"

	"github.com/headroom-sre/headroom/agent/merge"
	"github.com/headroom-sre/headroom/generator"
	"github.com/headroom-sre/headroom/plan"
	agentv1 "github.com/headroom-sre/headroom/proto/headroom/agent/v1"
)

// share is one round of load this agent holds.
type share struct {
	msg    *agentv1.Share
	plan   *plan.Plan
	offset time.Duration // server clock minus this agent's
	ctx    context.Context
	cancel context.CancelFunc
}

// clockSamples is how many four-timestamp exchanges a share's clock
// offset is taken from (the one with the least delay wins).
const clockSamples = 5

// prepare writes the share's plan and data rows, parses the plan, measures
// the clock and says Ready (or why it cannot be).
func (a *client) prepare(ctx context.Context, msg *agentv1.Share) {
	sctx, cancel := context.WithCancel(ctx)
	s := &share{msg: msg, ctx: sctx, cancel: cancel}
	a.mu.Lock()
	if a.pending != nil {
		a.pending.cancel()
	}
	a.pending = s
	a.mu.Unlock()
	a.wg.Add(1)
	go func() {
		defer a.wg.Done()
		rd := &agentv1.ReadyRequest{AgentId: a.id, JobId: msg.GetJobId(), Round: msg.GetRound()}
		p, err := a.load(msg)
		if err != nil {
			rd.Error = err.Error()
		} else {
			s.plan = p
			off, delay, err := a.clock(sctx)
			if err != nil {
				rd.Error = "clock: " + err.Error()
			}
			s.offset, rd.OffsetNs, rd.DelayNs = off, int64(off), int64(delay)
		}
		if rd.Error != "" {
			a.log.Warn("share not ready", "job", msg.GetJobId(), "round", msg.GetRound(), "err", rd.Error)
		}
		_ = a.retry(sctx, "ready", func(ctx context.Context) error {
			_, err := a.rpc.Ready(ctx, connect.NewRequest(rd))
			return err
		})
	}()
}

// load writes the share's plan and data rows into a fresh folder and
// parses the plan there. The abort rules on error rate and p99 are the
// server's, judged on the merged fleet; this agent alone sees a part.
func (a *client) load(msg *agentv1.Share) (*plan.Plan, error) {
	dir, err := a.tempDir(msg.GetJobId(), msg.GetRound())
	if err != nil {
		return nil, err
	}
	name := filepath.Base(msg.GetPlanFile())
	if name == "." || name == "/" || name == "" {
		name = "plan.yaml"
	}
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, msg.GetPlanYaml(), 0o600); err != nil {
		return nil, err
	}
	if err := writeData(dir, msg.GetData()); err != nil {
		return nil, err
	}
	p, err := plan.Parse(path, msg.GetPlanYaml())
	if err != nil {
		return nil, err
	}
	p.Abort.ErrorRate, p.Abort.P99 = nil, 0
	if r := msg.GetMaxRate(); r > 0 {
		p.Abort.MaxRate = r
	}
	return p, nil
}

// clock measures this agent's clock against the server's: the offset
// (server minus agent) of the exchange with the least round-trip delay.
func (a *client) clock(ctx context.Context) (offset, delay time.Duration, err error) {
	best := time.Duration(-1)
	for range clockSamples {
		t1 := time.Now()
		cctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		res, err := a.rpc.Clock(cctx, connect.NewRequest(&agentv1.ClockRequest{AgentId: a.id, T1UnixNs: t1.UnixNano()}))
		cancel()
		t4 := time.Now()
		if err != nil {
			return 0, 0, err
		}
		t2, t3 := res.Msg.GetT2UnixNs(), res.Msg.GetT3UnixNs()
		// Monotonic durations on the agent's side; wall-clock stamps for the offset.
		d := t4.Sub(t1) - time.Duration(t3-t2)
		off := time.Duration(((t2 - t1.UnixNano()) + (t3 - t4.UnixNano())) / 2)
		if best < 0 || d < best {
			best, offset = d, off
		}
	}
	return offset, max(best, 0), nil
}

// start runs the prepared share at the agreed instant.
func (a *client) start(ctx context.Context, st *agentv1.Start) {
	a.mu.Lock()
	s := a.pending
	if s == nil || s.msg.GetJobId() != st.GetJobId() || s.msg.GetRound() != st.GetRound() || s.plan == nil {
		a.mu.Unlock()
		a.log.Warn("start of a share this agent has not prepared", "job", st.GetJobId(), "round", st.GetRound())
		return
	}
	a.pending, a.running = nil, s
	a.mu.Unlock()
	at := time.Unix(0, st.GetAtUnixNs()).Add(-s.offset) // the agreed instant on this agent's clock
	a.wg.Add(1)
	go func() {
		defer a.wg.Done()
		a.runShare(s, at)
		a.mu.Lock()
		if a.running == s {
			a.running = nil
		}
		a.mu.Unlock()
	}()
}

// stop ends the share the order names.
func (a *client) stop(st *agentv1.Stop) {
	a.mu.Lock()
	defer a.mu.Unlock()
	for _, s := range []*share{a.pending, a.running} {
		if s != nil && s.msg.GetJobId() == st.GetJobId() && s.msg.GetRound() == st.GetRound() {
			a.log.Info("share stopped", "job", st.GetJobId(), "round", st.GetRound(), "reason", st.GetReason())
			s.cancel()
		}
	}
}

// runShare sends the share's load from at, pushes each closed second and
// says Finish.
func (a *client) runShare(s *share, at time.Time) {
	msg := s.msg
	key := agentKey(a.id)
	out := make(chan *agentv1.Window, 4096)
	pushed := make(chan struct{})
	go func() {
		defer close(pushed)
		a.push(s, out)
	}()
	var first time.Time
	var n int64
	env := msg.GetEnv()
	res, err := generator.Run(s.ctx, s.plan, generator.Options{
		BaseURL:   msg.GetBaseUrl(),
		Load:      loadFromWire(msg.GetLoad()),
		Split:     generator.Split{Index: int(msg.GetIndex()), Count: int(msg.GetCount())},
		StartAt:   at,
		LookupEnv: func(name string) (string, bool) { v, ok := env[name]; return v, ok },
		Warn:      func(m string) { a.log.Warn(m, "job", msg.GetJobId(), "round", msg.GetRound()) },
		OnSecond: func(sec generator.Second) {
			if first.IsZero() {
				first = sec.Start
			}
			w, err := merge.FromSecond(key, merge.Index(at, sec.Start), uint64(n), sec)
			if err != nil {
				a.log.Error("window not encoded", "err", err)
				return
			}
			n++
			out <- windowToWire(w, at)
		},
	})
	close(out)
	<-pushed
	fin := &agentv1.FinishRequest{AgentId: a.id, JobId: msg.GetJobId(), Round: msg.GetRound(), Windows: n}
	if !first.IsZero() {
		fin.StartedUnixNs = first.UnixNano()
	}
	if err != nil {
		fin.Error = err.Error()
	}
	if res != nil {
		fin.Capped = res.CappedAt > 0
		a.log.Info("share done", "job", msg.GetJobId(), "round", msg.GetRound(), "requests", res.Summary.Requests,
			"dropped", res.Summary.DroppedIterations, "windows", n, "late_start_ms", float64(first.Sub(at).Microseconds())/1000)
	}
	_ = a.retry(context.WithoutCancel(s.ctx), "finish", func(ctx context.Context) error {
		_, err := a.rpc.Finish(ctx, connect.NewRequest(fin))
		return err
	})
	s.cancel()
}

// push sends the share's windows as they come, in batches, retrying a
// failed batch until it goes through or GiveUp passes.
func (a *client) push(s *share, in <-chan *agentv1.Window) {
	msg := s.msg
	for w := range in {
		batch := []*agentv1.Window{w}
	more:
		for len(batch) < 64 {
			select {
			case x, ok := <-in:
				if !ok {
					break more
				}
				batch = append(batch, x)
			default:
				break more
			}
		}
		req := &agentv1.PushWindowsRequest{AgentId: a.id, JobId: msg.GetJobId(), Round: msg.GetRound(), Windows: batch}
		err := a.retry(context.WithoutCancel(s.ctx), "push windows", func(ctx context.Context) error {
			_, err := a.rpc.PushWindows(ctx, connect.NewRequest(req))
			return err
		})
		if err != nil {
			a.log.Error("windows lost", "job", msg.GetJobId(), "round", msg.GetRound(), "first", batch[0].GetSeq(), "err", fmt.Sprint(err))
		}
	}
}
