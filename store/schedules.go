package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"
)

// Schedule runs a plan's run or study on a cron expression (the server
// parses it and computes NextRun).
type Schedule struct {
	ID      int64
	PlanID  int64
	Kind    string // "run" | "study"
	Cron    string
	Webhook string // "" = no webhook
	Enabled bool
	LastRun *time.Time
	NextRun *time.Time
	Created time.Time
}

type scheduleRow struct {
	ID      int64      `db:"id"`
	PlanID  int64      `db:"plan_id"`
	Kind    string     `db:"kind"`
	Cron    string     `db:"cron"`
	Webhook string     `db:"webhook"`
	Enabled bool       `db:"enabled"`
	LastRun *time.Time `db:"last_run"`
	NextRun *time.Time `db:"next_run"`
	Created time.Time  `db:"created"`
}

func (r scheduleRow) schedule() Schedule {
	return Schedule{ID: r.ID, PlanID: r.PlanID, Kind: r.Kind, Cron: r.Cron, Webhook: r.Webhook, Enabled: r.Enabled,
		LastRun: utcp(r.LastRun), NextRun: utcp(r.NextRun), Created: utc(r.Created)}
}

const scheduleCols = "id, plan_id, kind, cron, webhook, enabled, last_run, next_run, created"

func tsp(t *time.Time) any {
	if t == nil {
		return nil
	}
	return t.UTC().Truncate(time.Microsecond)
}

// CreateSchedule stores sc (its PlanID, Kind, Cron, Webhook, Enabled and NextRun).
func (s *Store) CreateSchedule(ctx context.Context, sc Schedule) (Schedule, error) {
	sc.ID, sc.LastRun, sc.Created = 0, nil, s.ts()
	if sc.NextRun != nil {
		n := sc.NextRun.UTC().Truncate(time.Microsecond)
		sc.NextRun = &n
	}
	err := s.write(ctx, func(tx *sqlx.Tx) error {
		err := tx.GetContext(ctx, &sc.ID, tx.Rebind(`INSERT INTO schedules (plan_id, kind, cron, webhook, enabled, next_run, created)
			VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id`), sc.PlanID, sc.Kind, sc.Cron, sc.Webhook, sc.Enabled, tsp(sc.NextRun), sc.Created)
		return dbErr(err, "store: create schedule of plan %d", sc.PlanID)
	})
	if err != nil {
		return Schedule{}, err
	}
	return sc, nil
}

// UpdateSchedule replaces PlanID, Kind, Cron, Webhook, Enabled and NextRun of
// schedule sc.ID and returns it as stored.
func (s *Store) UpdateSchedule(ctx context.Context, sc Schedule) (Schedule, error) {
	var out Schedule
	err := s.write(ctx, func(tx *sqlx.Tx) error {
		err := updated(tx.ExecContext(ctx, tx.Rebind("UPDATE schedules SET plan_id = ?, kind = ?, cron = ?, webhook = ?, enabled = ?, next_run = ? WHERE id = ?"),
			sc.PlanID, sc.Kind, sc.Cron, sc.Webhook, sc.Enabled, tsp(sc.NextRun), sc.ID))("store: update schedule %d", sc.ID)
		if err != nil {
			return err
		}
		var r scheduleRow
		if err := tx.GetContext(ctx, &r, tx.Rebind("SELECT "+scheduleCols+" FROM schedules WHERE id = ?"), sc.ID); err != nil {
			return notFound(err, "store: schedule %d", sc.ID)
		}
		out = r.schedule()
		return nil
	})
	return out, err
}

// GetSchedule returns schedule id.
func (s *Store) GetSchedule(ctx context.Context, id int64) (Schedule, error) {
	var r scheduleRow
	if err := s.db.GetContext(ctx, &r, s.q("SELECT "+scheduleCols+" FROM schedules WHERE id = ?"), id); err != nil {
		return Schedule{}, notFound(err, "store: schedule %d", id)
	}
	return r.schedule(), nil
}

// ListSchedules returns every schedule by id.
func (s *Store) ListSchedules(ctx context.Context) ([]Schedule, error) {
	var rows []scheduleRow
	if err := s.db.SelectContext(ctx, &rows, "SELECT "+scheduleCols+" FROM schedules ORDER BY id"); err != nil {
		return nil, dbErr(err, "store: list schedules")
	}
	out := make([]Schedule, len(rows))
	for i, r := range rows {
		out[i] = r.schedule()
	}
	return out, nil
}

// DeleteSchedule deletes schedule id and its reviews.
func (s *Store) DeleteSchedule(ctx context.Context, id int64) error {
	return s.write(ctx, func(tx *sqlx.Tx) error {
		return updated(tx.ExecContext(ctx, tx.Rebind("DELETE FROM schedules WHERE id = ?"), id))("store: delete schedule %d", id)
	})
}

// MarkScheduleRun records that schedule id ran at ran and is next due at next.
func (s *Store) MarkScheduleRun(ctx context.Context, id int64, ran, next time.Time) error {
	return s.write(ctx, func(tx *sqlx.Tx) error {
		return updated(tx.ExecContext(ctx, tx.Rebind("UPDATE schedules SET last_run = ?, next_run = ? WHERE id = ?"),
			tsp(&ran), tsp(&next), id))("store: mark run of schedule %d", id)
	})
}

// ClaimScheduleRun records that schedule id runs now (at ran, next due at
// next) only if it is still enabled and due at due, as the caller read it; it
// reports whether this caller won the run. Of several servers that saw the
// same due time, exactly one wins.
func (s *Store) ClaimScheduleRun(ctx context.Context, id int64, due, ran, next time.Time) (bool, error) {
	var won bool
	err := s.write(ctx, func(tx *sqlx.Tx) error {
		res, err := tx.ExecContext(ctx, tx.Rebind("UPDATE schedules SET last_run = ?, next_run = ? WHERE id = ? AND enabled = ? AND next_run = ?"),
			tsp(&ran), tsp(&next), id, true, tsp(&due))
		if err != nil {
			return dbErr(err, "store: claim the run of schedule %d", id)
		}
		n, err := res.RowsAffected()
		if err != nil {
			return dbErr(err, "store: claim the run of schedule %d", id)
		}
		if n == 1 {
			won = true
			return nil
		}
		return exists(ctx, tx, "schedules", id)
	})
	return won, err
}

// Review is the outcome of one scheduled run: its job compared with the plan's baseline.
type Review struct {
	ID              int64
	ScheduleID      int64
	JobID           int64  // 0 = none (the job could not be created)
	BaselineJobID   int64  // 0 = the plan had no baseline
	Verdict         string // pass | regression | fail
	Reasons         []string
	WebhookStatus   string
	WebhookAttempts int
	Created         time.Time
}

type reviewRow struct {
	ID              int64         `db:"id"`
	ScheduleID      int64         `db:"schedule_id"`
	JobID           sql.NullInt64 `db:"job_id"`
	BaselineJobID   sql.NullInt64 `db:"baseline_job_id"`
	Verdict         string        `db:"verdict"`
	Reasons         []byte        `db:"reasons"`
	WebhookStatus   string        `db:"webhook_status"`
	WebhookAttempts int           `db:"webhook_attempts"`
	Created         time.Time     `db:"created"`
}

const reviewCols = "id, schedule_id, job_id, baseline_job_id, verdict, reasons, webhook_status, webhook_attempts, created"

func nullID(id int64) any {
	if id == 0 {
		return nil
	}
	return id
}

func reasonsArg(r []string) (any, error) {
	if len(r) == 0 {
		return nil, nil
	}
	b, err := json.Marshal(r)
	if err != nil {
		return nil, err
	}
	return string(b), nil
}

// AddReview stores rv and returns it with its ID and Created.
func (s *Store) AddReview(ctx context.Context, rv Review) (Review, error) {
	reasons, err := reasonsArg(rv.Reasons)
	if err != nil {
		return Review{}, fmt.Errorf("store: review of schedule %d: %w", rv.ScheduleID, err)
	}
	rv.Created = s.ts()
	err = s.write(ctx, func(tx *sqlx.Tx) error {
		err := tx.GetContext(ctx, &rv.ID, tx.Rebind(`INSERT INTO reviews (schedule_id, job_id, baseline_job_id, verdict, reasons, webhook_status, webhook_attempts, created)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`), rv.ScheduleID, nullID(rv.JobID), nullID(rv.BaselineJobID), rv.Verdict, reasons,
			rv.WebhookStatus, rv.WebhookAttempts, rv.Created)
		return dbErr(err, "store: review of schedule %d", rv.ScheduleID)
	})
	if err != nil {
		return Review{}, err
	}
	return rv, nil
}

// UpdateReview replaces JobID, BaselineJobID, Verdict, Reasons, WebhookStatus
// and WebhookAttempts of review rv.ID.
func (s *Store) UpdateReview(ctx context.Context, rv Review) error {
	reasons, err := reasonsArg(rv.Reasons)
	if err != nil {
		return fmt.Errorf("store: review %d: %w", rv.ID, err)
	}
	return s.write(ctx, func(tx *sqlx.Tx) error {
		return updated(tx.ExecContext(ctx, tx.Rebind(`UPDATE reviews SET job_id = ?, baseline_job_id = ?, verdict = ?, reasons = ?,
			webhook_status = ?, webhook_attempts = ? WHERE id = ?`), nullID(rv.JobID), nullID(rv.BaselineJobID), rv.Verdict, reasons,
			rv.WebhookStatus, rv.WebhookAttempts, rv.ID))("store: update review %d", rv.ID)
	})
}

// ListReviews returns the reviews of schedule scheduleID (0 = of every
// schedule), newest first.
func (s *Store) ListReviews(ctx context.Context, scheduleID int64) ([]Review, error) {
	query := "SELECT " + reviewCols + " FROM reviews"
	var args []any
	if scheduleID != 0 {
		query += " WHERE schedule_id = ?"
		args = append(args, scheduleID)
	}
	var rows []reviewRow
	if err := s.db.SelectContext(ctx, &rows, s.q(query+" ORDER BY id DESC"), args...); err != nil {
		return nil, dbErr(err, "store: reviews of schedule %d", scheduleID)
	}
	out := make([]Review, len(rows))
	for i, r := range rows {
		rv := Review{ID: r.ID, ScheduleID: r.ScheduleID, JobID: r.JobID.Int64, BaselineJobID: r.BaselineJobID.Int64,
			Verdict: r.Verdict, WebhookStatus: r.WebhookStatus, WebhookAttempts: r.WebhookAttempts, Created: utc(r.Created)}
		if len(r.Reasons) > 0 {
			if err := json.Unmarshal(r.Reasons, &rv.Reasons); err != nil {
				return nil, fmt.Errorf("store: reasons of review %d: %w", r.ID, err)
			}
		}
		out[i] = rv
	}
	return out, nil
}
