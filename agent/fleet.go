package agent

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"sync"
	"time"

	"connectrpc.com/connect"

	agentv1 "github.com/headroom-sre/headroom/proto/headroom/agent/v1"
	"github.com/headroom-sre/headroom/proto/headroom/agent/v1/agentv1connect"
	"github.com/headroom-sre/headroom/store"
)

// Ledger is what the Fleet keeps in the store: agents and their leases,
// each job's shares and rounds, and every window once. *store.Store is it.
type Ledger interface {
	RegisterAgent(ctx context.Context, a store.Agent, leaseUntil time.Time) (store.Agent, error)
	RenewAgent(ctx context.Context, id int64, state string, leaseUntil time.Time) error
	PutShards(ctx context.Context, shards ...store.Shard) error
	PutRound(ctx context.Context, r store.Round) error
	IngestWindow(ctx context.Context, w store.AgentWindow) (bool, error)
}

var _ Ledger = (*store.Store)(nil)

// FleetOptions tune a Fleet; every zero value has a default.
type FleetOptions struct {
	// Lease is how long an agent counts as alive after its last call;
	// default 5s. An agent whose order stream is closed counts as gone
	// after Reconnect.
	Lease time.Duration
	// Reconnect is how long an agent may be without its order stream (a
	// reconnect) before a job counts it lost; default 1.5s.
	Reconnect time.Duration
	// Wait bounds how long a job waits for its agents; default 2m.
	Wait time.Duration
	// Owner names this server in the agents' rows.
	Owner string
	// Log receives the fleet's events; nil is slog.Default().
	Log *slog.Logger
}

func (o FleetOptions) withDefaults() FleetOptions {
	if o.Lease <= 0 {
		o.Lease = 5 * time.Second
	}
	if o.Reconnect <= 0 {
		o.Reconnect = 1500 * time.Millisecond
	}
	if o.Wait <= 0 {
		o.Wait = 2 * time.Minute
	}
	if o.Log == nil {
		o.Log = slog.Default()
	}
	return o
}

// Fleet is the server's side of the agent protocol: the agents connected
// to this server, and the jobs they run. It implements the Connect
// service; the caller authenticates each call and passes the agent
// token's id with WithToken.
type Fleet struct {
	led Ledger
	o   FleetOptions

	mu      sync.Mutex
	members map[int64]*member
	changed chan struct{} // closed and replaced whenever a member changes

	closing   chan struct{} // closed by Close: the order streams end
	closeOnce sync.Once
}

var _ agentv1connect.AgentServiceHandler = (*Fleet)(nil)

// member is one registered agent, as this server knows it.
type member struct {
	id      int64
	name    string
	token   int64
	orders  chan *agentv1.Assignment
	streams int       // open order streams
	gone    time.Time // when the last stream closed (zero while one is open)
	seen    time.Time // last call
	renewed time.Time // last lease written to the store
	job     *Job      // the job that holds it, nil when idle
}

// NewFleet returns a Fleet over led.
func NewFleet(led Ledger, o FleetOptions) *Fleet {
	return &Fleet{led: led, o: o.withDefaults(), members: map[int64]*member{}, changed: make(chan struct{}), closing: make(chan struct{})}
}

// Close ends every order stream (the server is shutting down); agents
// reconnect, or give up when the server stays away.
func (f *Fleet) Close() {
	f.closeOnce.Do(func() { close(f.closing) })
}

type tokenKey struct{}

// WithToken marks ctx as a call authenticated by the agent token tokenID.
func WithToken(ctx context.Context, tokenID int64) context.Context {
	return context.WithValue(ctx, tokenKey{}, tokenID)
}

func tokenOf(ctx context.Context) (int64, bool) {
	id, ok := ctx.Value(tokenKey{}).(int64)
	return id, ok
}

// notifyLocked wakes everyone waiting on a change; f.mu is held.
func (f *Fleet) notifyLocked() {
	close(f.changed)
	f.changed = make(chan struct{})
}

// memberOf finds the calling agent: registered here, by the same token.
func (f *Fleet) memberOf(ctx context.Context, id int64) (*member, error) {
	tok, ok := tokenOf(ctx)
	if !ok {
		return nil, connect.NewError(connect.CodeUnauthenticated, errors.New("no agent token"))
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	m := f.members[id]
	if m == nil || m.token != tok {
		return nil, connect.NewError(connect.CodeNotFound, fmt.Errorf("agent %d is not registered on this server with this token: register again", id))
	}
	m.seen = time.Now()
	return m, nil
}

// Register stores a new agent and answers its id and lease.
func (f *Fleet) Register(ctx context.Context, req *connect.Request[agentv1.RegisterRequest]) (*connect.Response[agentv1.RegisterResponse], error) {
	tok, ok := tokenOf(ctx)
	if !ok {
		return nil, connect.NewError(connect.CodeUnauthenticated, errors.New("no agent token"))
	}
	r := req.Msg
	name := r.GetName()
	if name == "" || len(name) > 200 {
		return nil, connect.NewError(connect.CodeInvalidArgument, errors.New("name: want 1 to 200 characters"))
	}
	if r.GetCores() < 0 || r.GetMaxRate() < 0 {
		return nil, connect.NewError(connect.CodeInvalidArgument, errors.New("cores and max_rate must not be negative"))
	}
	now := time.Now()
	a, err := f.led.RegisterAgent(ctx, store.Agent{Name: name, Cores: int(r.GetCores()), MaxRate: r.GetMaxRate(),
		Version: r.GetVersion(), TokenID: tok, Owner: f.o.Owner}, now.Add(f.o.Lease))
	if err != nil {
		return nil, connect.NewError(connect.CodeInternal, err)
	}
	f.mu.Lock()
	for id, m := range f.members { // forget agents long gone
		if m.streams == 0 && m.job == nil && now.Sub(m.gone) > forgetAfter && now.Sub(m.seen) > forgetAfter {
			delete(f.members, id)
		}
	}
	f.members[a.ID] = &member{id: a.ID, name: name, token: tok, orders: make(chan *agentv1.Assignment, 64), seen: now, renewed: now, gone: now}
	f.notifyLocked()
	f.mu.Unlock()
	f.o.Log.Info("agent registered", "agent", a.ID, "name", name, "cores", r.GetCores(), "max_rate", r.GetMaxRate(), "version", r.GetVersion())
	return connect.NewResponse(&agentv1.RegisterResponse{AgentId: a.ID, LeaseMs: f.o.Lease.Milliseconds()}), nil
}

// forgetAfter is how long an agent without a stream or a job is kept in
// memory (the store keeps its row).
const forgetAfter = 10 * time.Minute

// pingEvery is how often an open order stream carries a keep-alive.
const pingEvery = 2 * time.Second

// Assignments streams the agent's orders until it hangs up.
func (f *Fleet) Assignments(ctx context.Context, req *connect.Request[agentv1.AssignmentsRequest], stream *connect.ServerStream[agentv1.Assignment]) error {
	m, err := f.memberOf(ctx, req.Msg.GetAgentId())
	if err != nil {
		return err
	}
	select {
	case <-f.closing:
		return connect.NewError(connect.CodeUnavailable, errors.New("the server is shutting down"))
	default:
	}
	f.mu.Lock()
	m.streams++
	m.gone = time.Time{}
	f.notifyLocked()
	f.mu.Unlock()
	defer func() {
		f.mu.Lock()
		m.streams--
		if m.streams == 0 {
			m.gone = time.Now()
		}
		f.notifyLocked()
		f.mu.Unlock()
	}()
	ping := time.NewTicker(pingEvery)
	defer ping.Stop()
	if err := stream.Send(&agentv1.Assignment{Order: &agentv1.Assignment_Ping{Ping: &agentv1.Ping{ServerUnixNs: time.Now().UnixNano()}}}); err != nil {
		return err
	}
	for {
		var a *agentv1.Assignment
		select {
		case <-ctx.Done():
			return nil
		case <-f.closing:
			return connect.NewError(connect.CodeUnavailable, errors.New("the server is shutting down"))
		case a = <-m.orders:
		case now := <-ping.C:
			a = &agentv1.Assignment{Order: &agentv1.Assignment_Ping{Ping: &agentv1.Ping{ServerUnixNs: now.UnixNano()}}}
		}
		if err := stream.Send(a); err != nil {
			if a.GetPing() == nil {
				select { // keep the order for the next stream
				case m.orders <- a:
				default:
				}
			}
			return err
		}
	}
}

// Clock answers one four-timestamp exchange.
func (f *Fleet) Clock(ctx context.Context, req *connect.Request[agentv1.ClockRequest]) (*connect.Response[agentv1.ClockResponse], error) {
	t2 := time.Now().UnixNano()
	if _, err := f.memberOf(ctx, req.Msg.GetAgentId()); err != nil {
		return nil, err
	}
	return connect.NewResponse(&agentv1.ClockResponse{T1UnixNs: req.Msg.GetT1UnixNs(), T2UnixNs: t2, T3UnixNs: time.Now().UnixNano()}), nil
}

// Heartbeat renews the agent's lease.
func (f *Fleet) Heartbeat(ctx context.Context, req *connect.Request[agentv1.HeartbeatRequest]) (*connect.Response[agentv1.HeartbeatResponse], error) {
	m, err := f.memberOf(ctx, req.Msg.GetAgentId())
	if err != nil {
		return nil, err
	}
	now := time.Now()
	f.mu.Lock()
	write := now.Sub(m.renewed) >= f.o.Lease/2
	state := store.AgentIdle
	if m.job != nil {
		state = store.AgentBusy
	}
	if write {
		m.renewed = now
	}
	f.mu.Unlock()
	if write {
		if err := f.led.RenewAgent(ctx, m.id, state, now.Add(f.o.Lease)); err != nil {
			return nil, connect.NewError(connect.CodeInternal, err)
		}
	}
	return connect.NewResponse(&agentv1.HeartbeatResponse{LeaseMs: f.o.Lease.Milliseconds()}), nil
}

// Ready passes an agent's readiness for a round to its job.
func (f *Fleet) Ready(ctx context.Context, req *connect.Request[agentv1.ReadyRequest]) (*connect.Response[agentv1.ReadyResponse], error) {
	m, err := f.memberOf(ctx, req.Msg.GetAgentId())
	if err != nil {
		return nil, err
	}
	j, err := f.jobOf(m, req.Msg.GetJobId())
	if err != nil {
		return nil, err
	}
	j.ready(m, req.Msg)
	return connect.NewResponse(&agentv1.ReadyResponse{}), nil
}

// PushWindows keeps each window once in the ledger and merges it.
func (f *Fleet) PushWindows(ctx context.Context, req *connect.Request[agentv1.PushWindowsRequest]) (*connect.Response[agentv1.PushWindowsResponse], error) {
	m, err := f.memberOf(ctx, req.Msg.GetAgentId())
	if err != nil {
		return nil, err
	}
	j, err := f.jobOf(m, req.Msg.GetJobId())
	if err != nil {
		return nil, err
	}
	acked, err := j.windows(ctx, m, req.Msg)
	if err != nil {
		return nil, err
	}
	return connect.NewResponse(&agentv1.PushWindowsResponse{Acked: acked}), nil
}

// Finish passes the end of an agent's share to its job.
func (f *Fleet) Finish(ctx context.Context, req *connect.Request[agentv1.FinishRequest]) (*connect.Response[agentv1.FinishResponse], error) {
	m, err := f.memberOf(ctx, req.Msg.GetAgentId())
	if err != nil {
		return nil, err
	}
	j, err := f.jobOf(m, req.Msg.GetJobId())
	if err != nil {
		return nil, err
	}
	j.finish(m, req.Msg)
	return connect.NewResponse(&agentv1.FinishResponse{}), nil
}

// jobOf is the job that holds m, checked against the id the agent named.
func (f *Fleet) jobOf(m *member, jobID int64) (*Job, error) {
	f.mu.Lock()
	j := m.job
	f.mu.Unlock()
	if j == nil || j.id != jobID {
		return nil, connect.NewError(connect.CodeFailedPrecondition, fmt.Errorf("agent %d holds no share of job %d", m.id, jobID))
	}
	return j, nil
}

// live reports whether m is connected (or only briefly not) and its lease
// holds; f.mu is held.
func (f *Fleet) liveLocked(m *member, now time.Time) bool {
	if now.Sub(m.seen) > f.o.Lease {
		return false
	}
	return m.streams > 0 || now.Sub(m.gone) <= f.o.Reconnect
}

// reserve takes n idle, connected agents for j, waiting up to the
// fleet's Wait.
func (f *Fleet) reserve(ctx context.Context, j *Job, n int) ([]*member, error) {
	deadline := time.NewTimer(f.o.Wait)
	defer deadline.Stop()
	poll := time.NewTicker(250 * time.Millisecond)
	defer poll.Stop()
	for {
		f.mu.Lock()
		now := time.Now()
		var idle []*member
		for _, m := range f.members {
			if m.job == nil && m.streams > 0 && f.liveLocked(m, now) {
				idle = append(idle, m)
			}
		}
		if len(idle) >= n {
			sort.Slice(idle, func(a, b int) bool { return idle[a].id < idle[b].id })
			idle = idle[:n]
			for _, m := range idle {
				m.job = j
			}
			f.mu.Unlock()
			return idle, nil
		}
		ch := f.changed
		f.mu.Unlock()
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("waiting for %d agents: %w", n, context.Cause(ctx))
		case <-deadline.C:
			return nil, fmt.Errorf("waiting for %d agents: %d ready after %s (start them with `headroom agent --server URL --token T`)", n, len(idle), f.o.Wait)
		case <-ch:
		case <-poll.C:
		}
	}
}

// release frees j's agents and tells them the job ended.
func (f *Fleet) release(j *Job, ms []*member, status string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, m := range ms {
		if m.job == j {
			m.job = nil
		}
		m.send(&agentv1.Assignment{Order: &agentv1.Assignment_JobDone{JobDone: &agentv1.JobDone{JobId: j.id, Status: status}}})
	}
	f.notifyLocked()
}

// lost returns the first of ms that is no longer live, or nil.
func (f *Fleet) lost(ms []*member) *member {
	f.mu.Lock()
	defer f.mu.Unlock()
	now := time.Now()
	for _, m := range ms {
		if !f.liveLocked(m, now) {
			return m
		}
	}
	return nil
}

// send queues an order for the agent's stream without blocking.
func (m *member) send(a *agentv1.Assignment) {
	select {
	case m.orders <- a:
	default:
	}
}

// Agents is a snapshot of the agents connected to this server.
func (f *Fleet) Agents() []AgentInfo {
	f.mu.Lock()
	defer f.mu.Unlock()
	now := time.Now()
	out := make([]AgentInfo, 0, len(f.members))
	for _, m := range f.members {
		in := AgentInfo{ID: m.id, Name: m.name, Live: f.liveLocked(m, now), Connected: m.streams > 0}
		if m.job != nil {
			in.Job = m.job.id
		}
		out = append(out, in)
	}
	sort.Slice(out, func(a, b int) bool { return out[a].ID < out[b].ID })
	return out
}

// AgentInfo is one agent as Agents shows it.
type AgentInfo struct {
	ID        int64  `json:"id"`
	Name      string `json:"name"`
	Live      bool   `json:"live"`
	Connected bool   `json:"connected"`
	Job       int64  `json:"job,omitempty"`
}

// agentKey is an agent's id as the merger names it.
func agentKey(id int64) string { return fmt.Sprint(id) }
