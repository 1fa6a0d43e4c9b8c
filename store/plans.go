package store

import (
	"context"
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"
)

// Plan is one version of a stored plan: its YAML text as submitted.
type Plan struct {
	ID      int64
	Name    string
	Version int
	YAML    string
	Created time.Time // when this version was stored
}

type planRow struct {
	ID      int64     `db:"id"`
	Name    string    `db:"name"`
	Version int       `db:"version"`
	YAML    string    `db:"yaml"`
	Created time.Time `db:"created"`
}

func (r planRow) plan() Plan {
	return Plan{ID: r.ID, Name: r.Name, Version: r.Version, YAML: r.YAML, Created: utc(r.Created)}
}

const planCols = "p.id, p.name, v.version, v.yaml, v.created"

// CreatePlan stores a new plan with its first version.
func (s *Store) CreatePlan(ctx context.Context, name, yaml string) (Plan, error) {
	p := Plan{Name: name, Version: 1, YAML: yaml, Created: s.ts()}
	err := s.write(ctx, func(tx *sqlx.Tx) error {
		err := tx.GetContext(ctx, &p.ID, tx.Rebind("INSERT INTO plans (name, created) VALUES (?, ?) RETURNING id"), name, p.Created)
		if err != nil {
			return dbErr(err, "store: create plan %q", name)
		}
		_, err = tx.ExecContext(ctx, tx.Rebind("INSERT INTO plan_versions (plan_id, version, yaml, created) VALUES (?, 1, ?, ?)"), p.ID, yaml, p.Created)
		return dbErr(err, "store: create plan %q", name)
	})
	if err != nil {
		return Plan{}, err
	}
	return p, nil
}

// AddPlanVersion stores yaml as the next version of plan id.
func (s *Store) AddPlanVersion(ctx context.Context, id int64, yaml string) (Plan, error) {
	p := Plan{ID: id, YAML: yaml, Created: s.ts()}
	err := s.write(ctx, func(tx *sqlx.Tx) error {
		if err := tx.GetContext(ctx, &p.Name, tx.Rebind("SELECT name FROM plans WHERE id = ?"), id); err != nil {
			return notFound(err, "store: plan %d", id)
		}
		err := tx.GetContext(ctx, &p.Version, tx.Rebind("SELECT COALESCE(MAX(version), 0) + 1 FROM plan_versions WHERE plan_id = ?"), id)
		if err != nil {
			return dbErr(err, "store: plan %d", id)
		}
		_, err = tx.ExecContext(ctx, tx.Rebind("INSERT INTO plan_versions (plan_id, version, yaml, created) VALUES (?, ?, ?, ?)"), id, p.Version, yaml, p.Created)
		return dbErr(err, "store: add version %d of plan %d", p.Version, id)
	})
	if err != nil {
		return Plan{}, err
	}
	return p, nil
}

// GetPlan returns version of plan id; version 0 is the latest.
func (s *Store) GetPlan(ctx context.Context, id int64, version int) (Plan, error) {
	var r planRow
	var err error
	if version == 0 {
		err = s.db.GetContext(ctx, &r, s.q("SELECT "+planCols+" FROM plans p JOIN plan_versions v ON v.plan_id = p.id WHERE p.id = ? ORDER BY v.version DESC LIMIT 1"), id)
		if err != nil {
			return Plan{}, notFound(err, "store: plan %d", id)
		}
		return r.plan(), nil
	}
	err = s.db.GetContext(ctx, &r, s.q("SELECT "+planCols+" FROM plans p JOIN plan_versions v ON v.plan_id = p.id WHERE p.id = ? AND v.version = ?"), id, version)
	if err != nil {
		return Plan{}, notFound(err, "store: plan %d version %d", id, version)
	}
	return r.plan(), nil
}

// PlanVersions returns every version of plan id, oldest first.
func (s *Store) PlanVersions(ctx context.Context, id int64) ([]Plan, error) {
	var rows []planRow
	err := s.db.SelectContext(ctx, &rows, s.q("SELECT "+planCols+" FROM plans p JOIN plan_versions v ON v.plan_id = p.id WHERE p.id = ? ORDER BY v.version"), id)
	if err != nil {
		return nil, dbErr(err, "store: versions of plan %d", id)
	}
	if len(rows) == 0 {
		return nil, fmt.Errorf("store: plan %d: %w", id, ErrNotFound)
	}
	out := make([]Plan, len(rows))
	for i, r := range rows {
		out[i] = r.plan()
	}
	return out, nil
}

// ListPlans returns the latest version of every plan, by id.
func (s *Store) ListPlans(ctx context.Context) ([]Plan, error) {
	var rows []planRow
	err := s.db.SelectContext(ctx, &rows, "SELECT "+planCols+` FROM plans p JOIN plan_versions v ON v.plan_id = p.id
		WHERE v.version = (SELECT MAX(version) FROM plan_versions x WHERE x.plan_id = p.id) ORDER BY p.id`)
	if err != nil {
		return nil, dbErr(err, "store: list plans")
	}
	out := make([]Plan, len(rows))
	for i, r := range rows {
		out[i] = r.plan()
	}
	return out, nil
}
