package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"
)

// MaxProfileBytes caps one kept profile (its gzipped bytes).
const MaxProfileBytes = 8 << 20

// ErrTooLarge is returned (wrapped, with the size) for a profile over
// MaxProfileBytes: it is not kept.
var ErrTooLarge = errors.New("store: not kept: too large")

// Profile is one pprof profile fetched while a job ran: the bytes the
// service sent (gzipped protobuf, what `go tool pprof` reads) and the
// step it covers.
type Profile struct {
	ID        int64
	JobID     int64
	Kind      string // cpu, allocs, heap, mutex, block
	Phase     string // the step's phase (baseline, explore, search, verify)
	Step      int    // the step's index within its phase
	Component string // the service profiled ("" = the plan's target)
	Seconds   float64
	Requests  int64 // requests the step answered while the profile ran (0: unknown)
	FetchedAt time.Time
	Bytes     int    // len(Raw), also when Raw is not loaded
	Raw       []byte // nil from ProfileList
}

type profileRow struct {
	ID        int64     `db:"id"`
	JobID     int64     `db:"job_id"`
	Kind      string    `db:"kind"`
	Phase     string    `db:"phase"`
	Step      int       `db:"step"`
	Component string    `db:"component"`
	Seconds   float64   `db:"seconds"`
	Requests  int64     `db:"requests"`
	FetchedAt time.Time `db:"fetched_at"`
	Bytes     int       `db:"bytes"`
	Raw       []byte    `db:"raw"`
}

func (r profileRow) profile() Profile {
	return Profile{ID: r.ID, JobID: r.JobID, Kind: r.Kind, Phase: r.Phase, Step: r.Step, Component: r.Component,
		Seconds: r.Seconds, Requests: r.Requests, FetchedAt: utc(r.FetchedAt), Bytes: r.Bytes, Raw: r.Raw}
}

const profileCols = "id, job_id, kind, phase, step, component, seconds, requests, fetched_at, LENGTH(raw) AS bytes"

// AddProfile keeps p (its Raw, Kind and the step it covers) with job
// jobID and returns its id. A zero FetchedAt is the store's now. A profile
// over MaxProfileBytes answers ErrTooLarge; an empty one or one without a
// kind is an error; an unknown job answers ErrNotFound.
func (s *Store) AddProfile(ctx context.Context, jobID int64, p Profile) (int64, error) {
	switch {
	case p.Kind == "":
		return 0, fmt.Errorf("store: profile of job %d: no kind", jobID)
	case len(p.Raw) == 0:
		return 0, fmt.Errorf("store: %s profile of job %d: empty", p.Kind, jobID)
	case len(p.Raw) > MaxProfileBytes:
		return 0, fmt.Errorf("%w: the %s profile of job %d (%s step %d) is %d bytes, over the %d-byte cap",
			ErrTooLarge, p.Kind, jobID, p.Phase, p.Step, len(p.Raw), MaxProfileBytes)
	}
	at := p.FetchedAt.UTC().Truncate(time.Microsecond)
	if p.FetchedAt.IsZero() {
		at = s.ts()
	}
	var id int64
	err := s.write(ctx, func(tx *sqlx.Tx) error {
		if err := exists(ctx, tx, "jobs", jobID); err != nil {
			return err
		}
		err := tx.GetContext(ctx, &id, tx.Rebind(`INSERT INTO job_profiles (job_id, kind, phase, step, component, seconds, requests, fetched_at, raw)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`),
			jobID, p.Kind, p.Phase, p.Step, p.Component, p.Seconds, p.Requests, at, p.Raw)
		return dbErr(err, "store: %s profile of job %d", p.Kind, jobID)
	})
	return id, err
}

// ProfileList returns job jobID's profiles without their bytes, in the
// order kept. An unknown job answers ErrNotFound.
func (s *Store) ProfileList(ctx context.Context, jobID int64) ([]Profile, error) {
	return s.profiles(ctx, jobID, false)
}

// Profiles returns job jobID's profiles with their bytes, in the order
// kept. An unknown job answers ErrNotFound.
func (s *Store) Profiles(ctx context.Context, jobID int64) ([]Profile, error) {
	return s.profiles(ctx, jobID, true)
}

func (s *Store) profiles(ctx context.Context, jobID int64, raw bool) ([]Profile, error) {
	cols := profileCols
	if raw {
		cols += ", raw"
	}
	var rows []profileRow
	err := s.read(ctx, func(tx *sqlx.Tx) error {
		if err := exists(ctx, tx, "jobs", jobID); err != nil {
			return err
		}
		return dbErr(tx.SelectContext(ctx, &rows, tx.Rebind("SELECT "+cols+" FROM job_profiles WHERE job_id = ? ORDER BY id"), jobID),
			"store: profiles of job %d", jobID)
	})
	if err != nil {
		return nil, err
	}
	out := make([]Profile, 0, len(rows))
	for _, r := range rows {
		out = append(out, r.profile())
	}
	return out, nil
}

// Profile returns profile id of job jobID with its bytes. An unknown job,
// or a profile of another job, answers ErrNotFound.
func (s *Store) Profile(ctx context.Context, jobID, id int64) (Profile, error) {
	var r profileRow
	err := s.read(ctx, func(tx *sqlx.Tx) error {
		return notFound(tx.GetContext(ctx, &r, tx.Rebind("SELECT "+profileCols+", raw FROM job_profiles WHERE job_id = ? AND id = ?"), jobID, id),
			"store: profile %d of job %d", id, jobID)
	})
	if err != nil {
		return Profile{}, err
	}
	return r.profile(), nil
}
