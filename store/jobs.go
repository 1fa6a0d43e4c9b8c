package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"
)

// Status is a job's state: queued, running, then one of the finished ones.
type Status string

// Job statuses. A job is queued, then running (claimed by one server), then
// finishes as passed, failed, aborted or cancelled; a job that was running when
// its server stopped without finishing it is marked interrupted at restart.
const (
	Queued      Status = "queued"
	Running     Status = "running"
	Passed      Status = "passed"
	Failed      Status = "failed"
	Aborted     Status = "aborted"
	Cancelled   Status = "cancelled"
	Interrupted Status = "interrupted"
)

// Finished reports whether st is a final status.
func (st Status) Finished() bool {
	switch st {
	case Passed, Failed, Aborted, Cancelled, Interrupted:
		return true
	}
	return false
}

// Job is one run or study of a plan version.
type Job struct {
	ID              int64
	PlanID          int64
	PlanVersion     int
	Kind            string // "run" | "study"
	Status          Status
	Phase           string
	Settings        json.RawMessage
	Summary         json.RawMessage
	Result          json.RawMessage // the whole run.json / study.json; not filled by ListJobs
	Error           string
	Verdict         string
	Owner           string // the server that claimed it
	Created         time.Time
	Started         *time.Time
	Finished        *time.Time
	CancelRequested bool
	Target          string // the host the load goes to: one load job per target at a time
}

// JobFilter selects jobs for ListJobs. Zero fields do not filter; Limit <= 0
// means no limit.
type JobFilter struct {
	PlanID int64
	Kind   string
	Status Status
	Query  string // case-insensitive substring of the plan's name, the target, the error or the owner
	Limit  int
	Offset int
}

type jobRow struct {
	ID              int64      `db:"id"`
	PlanID          int64      `db:"plan_id"`
	PlanVersion     int        `db:"plan_version"`
	Kind            string     `db:"kind"`
	Status          string     `db:"status"`
	Phase           string     `db:"phase"`
	Settings        []byte     `db:"settings"`
	Summary         []byte     `db:"summary"`
	Result          []byte     `db:"result"`
	Error           string     `db:"error"`
	Verdict         string     `db:"verdict"`
	Owner           string     `db:"owner"`
	Target          string     `db:"target"`
	CancelRequested bool       `db:"cancel_requested"`
	Created         time.Time  `db:"created"`
	Started         *time.Time `db:"started"`
	Finished        *time.Time `db:"finished"`
}

func (r jobRow) job() Job {
	return Job{
		ID: r.ID, PlanID: r.PlanID, PlanVersion: r.PlanVersion, Kind: r.Kind, Status: Status(r.Status),
		Phase: r.Phase, Settings: raw(r.Settings), Summary: raw(r.Summary), Result: raw(r.Result),
		Error: r.Error, Verdict: r.Verdict, Owner: r.Owner, Target: r.Target, CancelRequested: r.CancelRequested,
		Created: utc(r.Created), Started: utcp(r.Started), Finished: utcp(r.Finished),
	}
}

const jobCols = "j.id, j.plan_id, j.plan_version, j.kind, j.status, j.phase, j.settings, j.summary, j.result, j.error, j.verdict, j.owner, j.target, j.cancel_requested, j.created, j.started, j.finished"

// jobListCols leave out the result document, which can be large.
const jobListCols = "j.id, j.plan_id, j.plan_version, j.kind, j.status, j.phase, j.settings, j.summary, NULL AS result, j.error, j.verdict, j.owner, j.target, j.cancel_requested, j.created, j.started, j.finished"

// CreateJob queues a job for j.PlanID at j.PlanVersion (0 = the latest
// version) with j's Kind, Settings and Target; other fields are ignored.
func (s *Store) CreateJob(ctx context.Context, j Job) (Job, error) {
	settings, err := jsonArg("job settings", j.Settings)
	if err != nil {
		return Job{}, err
	}
	if j.Kind == "" {
		return Job{}, fmt.Errorf("store: create job of plan %d: no kind", j.PlanID)
	}
	out := Job{PlanID: j.PlanID, PlanVersion: j.PlanVersion, Kind: j.Kind, Status: Queued,
		Settings: raw([]byte(j.Settings)), Target: j.Target, Created: s.ts()}
	err = s.write(ctx, func(tx *sqlx.Tx) error {
		if out.PlanVersion == 0 {
			var v sql.NullInt64
			if err := tx.GetContext(ctx, &v, tx.Rebind("SELECT MAX(version) FROM plan_versions WHERE plan_id = ?"), j.PlanID); err != nil {
				return dbErr(err, "store: create job of plan %d", j.PlanID)
			}
			if !v.Valid {
				return fmt.Errorf("store: plan %d: %w", j.PlanID, ErrNotFound)
			}
			out.PlanVersion = int(v.Int64)
		}
		err := tx.GetContext(ctx, &out.ID, tx.Rebind(`INSERT INTO jobs (plan_id, plan_version, kind, status, settings, target, created)
			VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id`), out.PlanID, out.PlanVersion, out.Kind, string(Queued), settings, out.Target, out.Created)
		return dbErr(err, "store: create job of plan %d version %d", out.PlanID, out.PlanVersion)
	})
	if err != nil {
		return Job{}, err
	}
	return out, nil
}

// ClaimJob marks the oldest queued job whose Target is neither in busyTargets
// nor the target of a running job as running under owner and returns it; nil,
// nil when there is none. Two servers on one database never claim the same
// job, nor two jobs of one target ("" is no target: never busy).
func (s *Store) ClaimJob(ctx context.Context, owner string, busyTargets []string) (*Job, error) {
	var j *Job
	err := s.write(ctx, func(tx *sqlx.Tx) error {
		if s.driver == driverPostgres {
			// Claims take turns across servers, so each sees the targets the
			// claims before it made busy. SQLite's one writer does that already.
			if _, err := tx.ExecContext(ctx, "SELECT pg_advisory_xact_lock($1)", claimLockKey); err != nil {
				return dbErr(err, "store: claim job")
			}
		}
		pick := `SELECT id FROM jobs WHERE status = ?
			AND target NOT IN (SELECT r.target FROM jobs r WHERE r.status = 'running' AND r.target <> '')`
		args := []any{string(Running), owner, s.ts(), string(Queued)}
		if len(busyTargets) > 0 {
			in, inArgs, err := sqlx.In(" AND target NOT IN (?)", busyTargets)
			if err != nil {
				return fmt.Errorf("store: claim job: %w", err)
			}
			pick += in
			args = append(args, inArgs...)
		}
		pick += " ORDER BY id LIMIT 1"
		if s.driver == driverPostgres {
			pick += " FOR UPDATE SKIP LOCKED"
		}
		var id int64
		err := tx.GetContext(ctx, &id, tx.Rebind("UPDATE jobs SET status = ?, owner = ?, started = ? WHERE status = 'queued' AND id = ("+pick+") RETURNING id"), args...)
		if errors.Is(err, sql.ErrNoRows) {
			return nil
		}
		if err != nil {
			return dbErr(err, "store: claim job")
		}
		var r jobRow
		if err := tx.GetContext(ctx, &r, tx.Rebind("SELECT "+jobCols+" FROM jobs j WHERE j.id = ?"), id); err != nil {
			return dbErr(err, "store: claim job %d", id)
		}
		jj := r.job()
		j = &jj
		return nil
	})
	if err != nil {
		return nil, err
	}
	return j, nil
}

// SetPhase records the phase a running job is in.
func (s *Store) SetPhase(ctx context.Context, id int64, phase string) error {
	return s.write(ctx, func(tx *sqlx.Tx) error {
		return updated(tx.ExecContext(ctx, tx.Rebind("UPDATE jobs SET phase = ? WHERE id = ?"), phase, id))("store: set phase of job %d", id)
	})
}

// SetVerdict records a job's verdict (a comparison with its baseline, or a review's).
func (s *Store) SetVerdict(ctx context.Context, id int64, verdict string) error {
	return s.write(ctx, func(tx *sqlx.Tx) error {
		return updated(tx.ExecContext(ctx, tx.Rebind("UPDATE jobs SET verdict = ? WHERE id = ?"), verdict, id))("store: set verdict of job %d", id)
	})
}

// RequestCancel asks for job id to stop: a queued job is cancelled at once, a
// running one gets CancelRequested for its runner to see. A finished job
// answers ErrConflict.
func (s *Store) RequestCancel(ctx context.Context, id int64) error {
	return s.write(ctx, func(tx *sqlx.Tx) error {
		var st string
		if err := tx.GetContext(ctx, &st, tx.Rebind("SELECT status FROM jobs WHERE id = ?"), id); err != nil {
			return notFound(err, "store: job %d", id)
		}
		switch Status(st) {
		case Queued:
			_, err := tx.ExecContext(ctx, tx.Rebind("UPDATE jobs SET status = ?, cancel_requested = ?, finished = ? WHERE id = ?"), string(Cancelled), true, s.ts(), id)
			return dbErr(err, "store: cancel job %d", id)
		case Running:
			_, err := tx.ExecContext(ctx, tx.Rebind("UPDATE jobs SET cancel_requested = ? WHERE id = ?"), true, id)
			return dbErr(err, "store: cancel job %d", id)
		}
		return fmt.Errorf("store: cancel job %d: it is already %s: %w", id, st, ErrConflict)
	})
}

// FinishJob records how job id ended: a final status, its summary and result
// documents and an error message. A job that already finished answers ErrConflict.
func (s *Store) FinishJob(ctx context.Context, id int64, status Status, summary, result json.RawMessage, errMsg string) error {
	if !status.Finished() {
		return fmt.Errorf("store: finish job %d: %q is not a final status", id, status)
	}
	sum, err := jsonArg(fmt.Sprintf("job %d summary", id), summary)
	if err != nil {
		return err
	}
	res, err := jsonArg(fmt.Sprintf("job %d result", id), result)
	if err != nil {
		return err
	}
	return s.write(ctx, func(tx *sqlx.Tx) error {
		var st string
		if err := tx.GetContext(ctx, &st, tx.Rebind("SELECT status FROM jobs WHERE id = ?"), id); err != nil {
			return notFound(err, "store: job %d", id)
		}
		if Status(st).Finished() {
			return fmt.Errorf("store: finish job %d: it is already %s: %w", id, st, ErrConflict)
		}
		_, err := tx.ExecContext(ctx, tx.Rebind("UPDATE jobs SET status = ?, summary = ?, result = ?, error = ?, finished = ? WHERE id = ?"),
			string(status), sum, res, errMsg, s.ts(), id)
		return dbErr(err, "store: finish job %d", id)
	})
}

// GetJob returns job id with its result document.
func (s *Store) GetJob(ctx context.Context, id int64) (Job, error) {
	var r jobRow
	if err := s.db.GetContext(ctx, &r, s.q("SELECT "+jobCols+" FROM jobs j WHERE j.id = ?"), id); err != nil {
		return Job{}, notFound(err, "store: job %d", id)
	}
	return r.job(), nil
}

// ListJobs returns a page of the jobs f selects, newest first, without their
// result documents, and how many jobs f selects in all.
func (s *Store) ListJobs(ctx context.Context, f JobFilter) ([]Job, int, error) {
	var where []string
	var args []any
	if f.PlanID != 0 {
		where, args = append(where, "j.plan_id = ?"), append(args, f.PlanID)
	}
	if f.Kind != "" {
		where, args = append(where, "j.kind = ?"), append(args, f.Kind)
	}
	if f.Status != "" {
		where, args = append(where, "j.status = ?"), append(args, string(f.Status))
	}
	if f.Query != "" {
		like := "%" + escapeLike(strings.ToLower(f.Query)) + "%"
		where = append(where, `(LOWER(p.name) LIKE ? ESCAPE '\' OR LOWER(j.target) LIKE ? ESCAPE '\' OR LOWER(j.error) LIKE ? ESCAPE '\' OR LOWER(j.owner) LIKE ? ESCAPE '\')`)
		args = append(args, like, like, like, like)
	}
	from := " FROM jobs j JOIN plans p ON p.id = j.plan_id"
	if len(where) > 0 {
		from += " WHERE " + strings.Join(where, " AND ")
	}
	var total int
	var rows []jobRow
	err := s.read(ctx, func(tx *sqlx.Tx) error {
		if err := tx.GetContext(ctx, &total, tx.Rebind("SELECT COUNT(*)"+from), args...); err != nil {
			return err
		}
		return tx.SelectContext(ctx, &rows, tx.Rebind("SELECT "+jobListCols+from+" ORDER BY j.id DESC"+s.limitOffset(f.Limit, f.Offset)), args...)
	})
	if err != nil {
		return nil, 0, dbErr(err, "store: list jobs")
	}
	out := make([]Job, len(rows))
	for i, r := range rows {
		out[i] = r.job()
	}
	return out, total, nil
}

// MarkInterrupted marks every running job of owner ("" = of every owner) as
// interrupted, keeping its data, and returns how many it marked.
func (s *Store) MarkInterrupted(ctx context.Context, owner string) (int, error) {
	var n int64
	err := s.write(ctx, func(tx *sqlx.Tx) error {
		query := "UPDATE jobs SET status = ?, finished = ? WHERE status = ?"
		args := []any{string(Interrupted), s.ts(), string(Running)}
		if owner != "" {
			query += " AND owner = ?"
			args = append(args, owner)
		}
		res, err := tx.ExecContext(ctx, tx.Rebind(query), args...)
		if err != nil {
			return dbErr(err, "store: mark interrupted jobs")
		}
		n, err = res.RowsAffected()
		return err
	})
	return int(n), err
}

func escapeLike(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}

// claimLockKey is the PostgreSQL advisory lock ClaimJob holds for its
// transaction ("hdrmclm").
const claimLockKey int64 = 0x6864726d636c6d

// updated turns an UPDATE's outcome into an error: ErrNotFound when it
// matched no row.
func updated(res sql.Result, err error) func(format string, args ...any) error {
	return func(format string, args ...any) error {
		if err != nil {
			return dbErr(err, format, args...)
		}
		n, err := res.RowsAffected()
		if err != nil {
			return dbErr(err, format, args...)
		}
		if n == 0 {
			return fmt.Errorf("%s: %w", fmt.Sprintf(format, args...), ErrNotFound)
		}
		return nil
	}
}
