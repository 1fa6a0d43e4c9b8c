package store

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"
)

// Window is one closed second of a job for one request name ("" = all
// requests), with its latency histogram encoded so that percentiles of any
// span can be merged exactly.
type Window struct {
	JobID      int64
	Seq        int // the second's number within the job; rows of one second share it
	Phase      string
	Step       int
	Name       string // "" = all requests
	Start      time.Time
	DurationS  float64
	Offered    float64
	Requests   int64
	Errors     int64
	Iterations int64
	Dropped    int64
	InFlight   float64
	VUs        int
	Classes    map[string]int64 // errors by class
	HDR        []byte           // hdrhistogram-go's compressed encoding, as is
	Exemplars  json.RawMessage
}

type windowRow struct {
	JobID      int64   `db:"job_id"`
	Seq        int     `db:"seq"`
	Name       string  `db:"name"`
	Phase      string  `db:"phase"`
	Step       int     `db:"step"`
	StartUS    int64   `db:"start_us"`
	DurationS  float64 `db:"duration_s"`
	Offered    float64 `db:"offered"`
	Requests   int64   `db:"requests"`
	Errors     int64   `db:"errors"`
	Iterations int64   `db:"iterations"`
	Dropped    int64   `db:"dropped"`
	InFlight   float64 `db:"in_flight"`
	VUs        int     `db:"vus"`
	Classes    []byte  `db:"classes"`
	HDR        []byte  `db:"hdr"`
	Exemplars  []byte  `db:"exemplars"`
}

const windowCols = "job_id, seq, name, phase, step, start_us, duration_s, offered, requests, errors, iterations, dropped, in_flight, vus, classes, hdr, exemplars"

// AppendWindows stores ws as windows of job jobID in one transaction. A
// second (Seq, Name) already stored answers ErrConflict and stores none of ws.
func (s *Store) AppendWindows(ctx context.Context, jobID int64, ws []Window) error {
	if len(ws) == 0 {
		return nil
	}
	return s.write(ctx, func(tx *sqlx.Tx) error {
		if err := exists(ctx, tx, "jobs", jobID); err != nil {
			return err
		}
		stmt, err := tx.PreparexContext(ctx, tx.Rebind("INSERT INTO job_windows ("+windowCols+") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"))
		if err != nil {
			return dbErr(err, "store: append windows of job %d", jobID)
		}
		defer stmt.Close()
		for _, w := range ws {
			var classes any
			if len(w.Classes) > 0 {
				b, err := json.Marshal(w.Classes)
				if err != nil {
					return fmt.Errorf("store: window %d of job %d: %w", w.Seq, jobID, err)
				}
				classes = string(b)
			}
			ex, err := jsonArg(fmt.Sprintf("exemplars of window %d of job %d", w.Seq, jobID), w.Exemplars)
			if err != nil {
				return err
			}
			var hdr any
			if len(w.HDR) > 0 {
				hdr = w.HDR
			}
			_, err = stmt.ExecContext(ctx, jobID, w.Seq, w.Name, w.Phase, w.Step, w.Start.UnixMicro(), w.DurationS, w.Offered,
				w.Requests, w.Errors, w.Iterations, w.Dropped, w.InFlight, w.VUs, classes, hdr, ex)
			if err != nil {
				return dbErr(err, "store: window %d %q of job %d", w.Seq, w.Name, jobID)
			}
		}
		return nil
	})
}

// Windows returns the windows of job jobID that start in [from, to), in the
// order of time, then seq, then name ("" first). A zero from or to leaves
// that side open. An unknown job answers ErrNotFound.
func (s *Store) Windows(ctx context.Context, jobID int64, from, to time.Time) ([]Window, error) {
	query := "SELECT " + windowCols + " FROM job_windows WHERE job_id = ?"
	args := []any{jobID}
	if !from.IsZero() {
		query += " AND start_us >= ?"
		args = append(args, from.UnixMicro())
	}
	if !to.IsZero() {
		query += " AND start_us < ?"
		args = append(args, to.UnixMicro())
	}
	var rows []windowRow
	err := s.read(ctx, func(tx *sqlx.Tx) error {
		if err := exists(ctx, tx, "jobs", jobID); err != nil {
			return err
		}
		return dbErr(tx.SelectContext(ctx, &rows, tx.Rebind(query+" ORDER BY start_us, seq, name"), args...), "store: windows of job %d", jobID)
	})
	if err != nil {
		return nil, err
	}
	out := make([]Window, len(rows))
	for i, r := range rows {
		w := Window{JobID: r.JobID, Seq: r.Seq, Phase: r.Phase, Step: r.Step, Name: r.Name,
			Start: time.UnixMicro(r.StartUS).UTC(), DurationS: r.DurationS, Offered: r.Offered,
			Requests: r.Requests, Errors: r.Errors, Iterations: r.Iterations, Dropped: r.Dropped,
			InFlight: r.InFlight, VUs: r.VUs, HDR: r.HDR, Exemplars: raw(r.Exemplars)}
		if len(r.Classes) > 0 {
			if err := json.Unmarshal(r.Classes, &w.Classes); err != nil {
				return nil, fmt.Errorf("store: classes of window %d of job %d: %w", r.Seq, jobID, err)
			}
		}
		out[i] = w
	}
	return out, nil
}

// Event is one entry of a job's live stream, replayed by id.
type Event struct {
	ID    int64
	JobID int64
	Type  string // window, step, phase, finding, status, end
	Data  json.RawMessage
	At    time.Time
}

type eventRow struct {
	ID    int64     `db:"id"`
	JobID int64     `db:"job_id"`
	Type  string    `db:"type"`
	Data  []byte    `db:"data"`
	At    time.Time `db:"at"`
}

// AppendEvent stores an event of job jobID and returns its id; ids grow.
func (s *Store) AppendEvent(ctx context.Context, jobID int64, typ string, data json.RawMessage) (int64, error) {
	d, err := jsonArg(fmt.Sprintf("%s event of job %d", typ, jobID), data)
	if err != nil {
		return 0, err
	}
	var id int64
	err = s.write(ctx, func(tx *sqlx.Tx) error {
		// Events of one job take their ids in turn (PostgreSQL: under the job's
		// row lock), so they commit in id order and a reader that has seen id n
		// never gets an id below n later. SQLite's one writer does that already.
		lock := "SELECT COUNT(*) FROM jobs WHERE id = ?"
		if s.driver == driverPostgres {
			lock = "SELECT COUNT(*) FROM (SELECT id FROM jobs WHERE id = ? FOR UPDATE) j"
		}
		var n int
		if err := tx.GetContext(ctx, &n, tx.Rebind(lock), jobID); err != nil {
			return dbErr(err, "store: %s event of job %d", typ, jobID)
		}
		if n == 0 {
			return fmt.Errorf("store: job %d: %w", jobID, ErrNotFound)
		}
		err := tx.GetContext(ctx, &id, tx.Rebind("INSERT INTO job_events (job_id, type, data, at) VALUES (?, ?, ?, ?) RETURNING id"), jobID, typ, d, s.ts())
		return dbErr(err, "store: %s event of job %d", typ, jobID)
	})
	return id, err
}

// Events returns up to limit (<= 0: all) events of job jobID with an id above
// afterID, oldest first.
func (s *Store) Events(ctx context.Context, jobID, afterID int64, limit int) ([]Event, error) {
	var rows []eventRow
	query := "SELECT id, job_id, type, data, at FROM job_events WHERE job_id = ? AND id > ? ORDER BY id" + s.limitOffset(limit, 0)
	if err := s.db.SelectContext(ctx, &rows, s.q(query), jobID, afterID); err != nil {
		return nil, dbErr(err, "store: events of job %d", jobID)
	}
	out := make([]Event, len(rows))
	for i, r := range rows {
		out[i] = Event{ID: r.ID, JobID: r.JobID, Type: r.Type, Data: raw(r.Data), At: utc(r.At)}
	}
	return out, nil
}
