package store

import (
	"context"
	"time"

	"github.com/jmoiron/sqlx"
)

// Agent is a registered load agent (`headroom agent`).
type Agent struct {
	ID         int64     `db:"id"`
	Name       string    `db:"name"`
	Cores      int       `db:"cores"`
	MaxRate    float64   `db:"max_rate"`
	Version    string    `db:"version"`
	TokenID    int64     `db:"token_id"`
	Owner      string    `db:"owner"` // the server it is connected to
	State      string    `db:"state"` // AgentIdle, AgentBusy, AgentGone
	Registered time.Time `db:"registered"`
	LeaseUntil time.Time `db:"lease_until"`
}

// Agent states.
const (
	AgentIdle = "idle"
	AgentBusy = "busy"
	AgentGone = "gone"
)

// Shard is one agent's share of a job: which arrivals or users (Index of
// Count) and which data rows it offers, its clock and what it sent.
type Shard struct {
	JobID    int64   `db:"job_id"`
	AgentID  int64   `db:"agent_id"`
	Index    int     `db:"idx"`
	Count    int     `db:"count"`
	Name     string  `db:"name"`
	State    string  `db:"state"` // ShardAssigned, ShardRunning, ShardDone, ShardLost, ShardFailed
	Rows     string  `db:"rows_desc"`
	OffsetMs float64 `db:"offset_ms"` // server clock minus agent clock
	DelayMs  float64 `db:"delay_ms"`  // round trip of the clock exchange
	Requests int64   `db:"requests"`
	Dropped  int64   `db:"dropped"`
	Windows  int64   `db:"windows"`
	Error    string  `db:"error"`
	// Outlier is the statement that flagged the agent as departing from
	// the fleet ("p99 41.2 ms against the fleet's 10.3 ms for 3 s …");
	// empty when it never did.
	Outlier string `db:"outlier"`
}

// Shard states.
const (
	ShardAssigned = "assigned"
	ShardRunning  = "running"
	ShardDone     = "done"
	ShardLost     = "lost"
	ShardFailed   = "failed"
)

// Round is one agreed start of a job's agents (a run has one, a study one
// per step): when, and how far apart the agents really started.
type Round struct {
	JobID    int64    `db:"job_id"`
	Round    int64    `db:"round"`
	Agents   int      `db:"agents"`
	StartUS  int64    `db:"start_us"`
	SpreadMs *float64 `db:"spread_ms"` // nil until every agent reported its start
}

// RegisterAgent stores a new agent, idle, with a lease until leaseUntil.
func (s *Store) RegisterAgent(ctx context.Context, a Agent, leaseUntil time.Time) (Agent, error) {
	a.Registered, a.LeaseUntil, a.State = s.ts(), leaseUntil.UTC().Truncate(time.Microsecond), AgentIdle
	err := s.write(ctx, func(tx *sqlx.Tx) error {
		err := tx.GetContext(ctx, &a.ID, tx.Rebind(`INSERT INTO agents (name, cores, max_rate, version, token_id, owner, state, registered, lease_until)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`),
			a.Name, a.Cores, a.MaxRate, a.Version, a.TokenID, a.Owner, a.State, a.Registered, a.LeaseUntil)
		return dbErr(err, "store: register agent %q", a.Name)
	})
	return a, err
}

// RenewAgent sets an agent's lease and state.
func (s *Store) RenewAgent(ctx context.Context, id int64, state string, leaseUntil time.Time) error {
	return s.write(ctx, func(tx *sqlx.Tx) error {
		return updated(tx.ExecContext(ctx, tx.Rebind("UPDATE agents SET state = ?, lease_until = ? WHERE id = ?"),
			state, leaseUntil.UTC().Truncate(time.Microsecond), id))("store: agent %d", id)
	})
}

// GetAgent reads one agent.
func (s *Store) GetAgent(ctx context.Context, id int64) (Agent, error) {
	var a Agent
	err := s.db.GetContext(ctx, &a, s.q("SELECT * FROM agents WHERE id = ?"), id)
	a.Registered, a.LeaseUntil = utc(a.Registered), utc(a.LeaseUntil)
	return a, notFound(err, "store: agent %d", id)
}

// PutShards writes (inserts or replaces) agents' shares of jobs, in one
// transaction.
func (s *Store) PutShards(ctx context.Context, shards ...Shard) error {
	return s.write(ctx, func(tx *sqlx.Tx) error {
		for _, sh := range shards {
			_, err := tx.NamedExecContext(ctx, `INSERT INTO job_shards
			(job_id, agent_id, idx, count, name, state, rows_desc, offset_ms, delay_ms, requests, dropped, windows, error, outlier)
			VALUES (:job_id, :agent_id, :idx, :count, :name, :state, :rows_desc, :offset_ms, :delay_ms, :requests, :dropped, :windows, :error, :outlier)
			ON CONFLICT (job_id, agent_id) DO UPDATE SET idx = excluded.idx, count = excluded.count, name = excluded.name,
			state = excluded.state, rows_desc = excluded.rows_desc, offset_ms = excluded.offset_ms, delay_ms = excluded.delay_ms,
			requests = excluded.requests, dropped = excluded.dropped, windows = excluded.windows, error = excluded.error,
			outlier = excluded.outlier`, sh)
			if err != nil {
				return dbErr(err, "store: job %d shard of agent %d", sh.JobID, sh.AgentID)
			}
		}
		return nil
	})
}

// Shards are a job's agents' shares, by index.
func (s *Store) Shards(ctx context.Context, jobID int64) ([]Shard, error) {
	var out []Shard
	err := s.db.SelectContext(ctx, &out, s.q("SELECT * FROM job_shards WHERE job_id = ? ORDER BY idx, agent_id"), jobID)
	return out, dbErr(err, "store: job %d shards", jobID)
}

// PutRound writes (inserts or replaces) one round of a job.
func (s *Store) PutRound(ctx context.Context, r Round) error {
	return s.write(ctx, func(tx *sqlx.Tx) error {
		_, err := tx.NamedExecContext(ctx, `INSERT INTO job_rounds (job_id, round, agents, start_us, spread_ms)
			VALUES (:job_id, :round, :agents, :start_us, :spread_ms)
			ON CONFLICT (job_id, round) DO UPDATE SET agents = excluded.agents, start_us = excluded.start_us, spread_ms = excluded.spread_ms`, r)
		return dbErr(err, "store: job %d round %d", r.JobID, r.Round)
	})
}

// Rounds are a job's rounds, in order.
func (s *Store) Rounds(ctx context.Context, jobID int64) ([]Round, error) {
	var out []Round
	err := s.db.SelectContext(ctx, &out, s.q("SELECT * FROM job_rounds WHERE job_id = ? ORDER BY round"), jobID)
	return out, dbErr(err, "store: job %d rounds", jobID)
}

// AgentWindow is one window an agent pushed, in its wire encoding.
type AgentWindow struct {
	JobID   int64  `db:"job_id"`
	AgentID int64  `db:"agent_id"`
	Round   int64  `db:"round"`
	Second  int64  `db:"second"`
	Seq     int64  `db:"seq"`
	Doc     []byte `db:"doc"`
}

// IngestWindow keeps an agent's window once: a second one for the same
// (job, agent, round, second) — a retry — is ignored and added is false.
func (s *Store) IngestWindow(ctx context.Context, w AgentWindow) (added bool, err error) {
	err = s.write(ctx, func(tx *sqlx.Tx) error {
		res, err := tx.NamedExecContext(ctx, `INSERT INTO agent_windows (job_id, agent_id, round, second, seq, doc)
			VALUES (:job_id, :agent_id, :round, :second, :seq, :doc)
			ON CONFLICT (job_id, agent_id, round, second) DO NOTHING`, w)
		if err != nil {
			return dbErr(err, "store: job %d agent %d window %d", w.JobID, w.AgentID, w.Second)
		}
		n, _ := res.RowsAffected()
		added = n == 1
		return nil
	})
	return added, err
}

// AgentWindows are the windows an agent pushed for a round of a job, in order.
func (s *Store) AgentWindows(ctx context.Context, jobID, agentID, round int64) ([]AgentWindow, error) {
	var out []AgentWindow
	err := s.db.SelectContext(ctx, &out, s.q("SELECT * FROM agent_windows WHERE job_id = ? AND agent_id = ? AND round = ? ORDER BY second"), jobID, agentID, round)
	return out, dbErr(err, "store: job %d agent %d windows", jobID, agentID)
}
