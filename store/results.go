package store

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/jmoiron/sqlx"
)

// AddStep stores doc (a capacity.Step as JSON) as step index of phase in
// job jobID. Each phase numbers its steps on its own; storing a phase's index
// again replaces its document and keeps its place in the order.
func (s *Store) AddStep(ctx context.Context, jobID int64, index int, phase string, doc json.RawMessage) error {
	d, err := jsonArg(fmt.Sprintf("step %d of job %d", index, jobID), doc)
	if err != nil {
		return err
	}
	if d == nil {
		return fmt.Errorf("store: step %d of job %d is empty", index, jobID)
	}
	return s.write(ctx, func(tx *sqlx.Tx) error {
		if err := exists(ctx, tx, "jobs", jobID); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, tx.Rebind(`INSERT INTO job_steps (job_id, phase, idx, seq, doc)
			VALUES (?, ?, ?, (SELECT COALESCE(MAX(seq), 0) + 1 FROM job_steps WHERE job_id = ?), ?)
			ON CONFLICT (job_id, phase, idx) DO UPDATE SET doc = excluded.doc`), jobID, phase, index, jobID, d)
		return dbErr(err, "store: step %d of job %d", index, jobID)
	})
}

// Steps returns the step documents of job jobID, every phase's, in the order
// they were stored.
func (s *Store) Steps(ctx context.Context, jobID int64) ([]json.RawMessage, error) {
	return s.docs(ctx, "SELECT doc FROM job_steps WHERE job_id = ? ORDER BY seq", jobID, "steps")
}

// SetFindings replaces the findings of job jobID with docs (correlate.Finding as JSON).
func (s *Store) SetFindings(ctx context.Context, jobID int64, docs []json.RawMessage) error {
	args := make([]any, len(docs))
	for i, doc := range docs {
		d, err := jsonArg(fmt.Sprintf("finding %d of job %d", i, jobID), doc)
		if err != nil {
			return err
		}
		if d == nil {
			return fmt.Errorf("store: finding %d of job %d is empty", i, jobID)
		}
		args[i] = d
	}
	return s.write(ctx, func(tx *sqlx.Tx) error {
		if err := exists(ctx, tx, "jobs", jobID); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, tx.Rebind("DELETE FROM job_findings WHERE job_id = ?"), jobID); err != nil {
			return dbErr(err, "store: findings of job %d", jobID)
		}
		for i, d := range args {
			_, err := tx.ExecContext(ctx, tx.Rebind("INSERT INTO job_findings (job_id, idx, doc) VALUES (?, ?, ?)"), jobID, i, d)
			if err != nil {
				return dbErr(err, "store: finding %d of job %d", i, jobID)
			}
		}
		return nil
	})
}

// Findings returns the finding documents of job jobID in the order they were set.
func (s *Store) Findings(ctx context.Context, jobID int64) ([]json.RawMessage, error) {
	return s.docs(ctx, "SELECT doc FROM job_findings WHERE job_id = ? ORDER BY idx", jobID, "findings")
}

func (s *Store) docs(ctx context.Context, query string, jobID int64, what string) ([]json.RawMessage, error) {
	var rows [][]byte
	err := s.read(ctx, func(tx *sqlx.Tx) error {
		if err := exists(ctx, tx, "jobs", jobID); err != nil {
			return err
		}
		return dbErr(tx.SelectContext(ctx, &rows, tx.Rebind(query), jobID), "store: %s of job %d", what, jobID)
	})
	if err != nil {
		return nil, err
	}
	out := make([]json.RawMessage, len(rows))
	for i, r := range rows {
		out[i] = json.RawMessage(r)
	}
	return out, nil
}

// SetBaseline makes job jobID the baseline of plan planID. The job must be
// one of the plan's (ErrConflict otherwise).
func (s *Store) SetBaseline(ctx context.Context, planID, jobID int64) error {
	return s.write(ctx, func(tx *sqlx.Tx) error {
		if err := exists(ctx, tx, "plans", planID); err != nil {
			return err
		}
		var of int64
		if err := tx.GetContext(ctx, &of, tx.Rebind("SELECT plan_id FROM jobs WHERE id = ?"), jobID); err != nil {
			return notFound(err, "store: job %d", jobID)
		}
		if of != planID {
			return fmt.Errorf("store: job %d is a job of plan %d, not of plan %d: %w", jobID, of, planID, ErrConflict)
		}
		_, err := tx.ExecContext(ctx, tx.Rebind(`INSERT INTO baselines (plan_id, job_id, set_at) VALUES (?, ?, ?)
			ON CONFLICT (plan_id) DO UPDATE SET job_id = excluded.job_id, set_at = excluded.set_at`), planID, jobID, s.ts())
		return dbErr(err, "store: baseline of plan %d", planID)
	})
}

// Baseline returns the baseline job of plan planID; ErrNotFound when it has none.
func (s *Store) Baseline(ctx context.Context, planID int64) (int64, error) {
	var id int64
	if err := s.db.GetContext(ctx, &id, s.q("SELECT job_id FROM baselines WHERE plan_id = ?"), planID); err != nil {
		return 0, notFound(err, "store: baseline of plan %d", planID)
	}
	return id, nil
}
