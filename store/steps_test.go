package store

import (
	"database/sql"
	"encoding/json"
	"fmt"
	"io/fs"
	"strings"
	"testing"
	"time"

	"github.com/pressly/goose/v3"

	"github.com/headroom-sre/headroom/capacity"
	"github.com/headroom-sre/headroom/migrations"
)

// wholeStudy is the order a study stores its steps in: the search numbers
// baseline, explore and search steps 1…n, verification starts again at 1,
// and stress is a phase of its own.
func wholeStudy() []capacity.Step {
	t0 := time.Date(2026, 12, 7, 0, 0, 0, 0, time.UTC)
	phases := []struct {
		phase capacity.Phase
		from  int
		n     int
	}{
		{capacity.PhaseBaseline, 1, 1},
		{capacity.PhaseExplore, 2, 5},
		{capacity.PhaseSearch, 7, 3},
		{capacity.PhaseVerify, 1, 8},
		{capacity.PhaseStress, 1, 1},
	}
	var out []capacity.Step
	for _, p := range phases {
		for i := 0; i < p.n; i++ {
			k := len(out)
			out = append(out, capacity.Step{
				Index: p.from + i, Phase: p.phase, Rate: float64(10 * (k + 1)),
				Start: t0.Add(time.Duration(k) * 10 * time.Second), End: t0.Add(time.Duration(k)*10*time.Second + 8*time.Second),
				Verdict: capacity.Acceptable,
			})
		}
	}
	return out
}

// TestWholeStudyKeepsEveryStep saves every phase of a study, whose phases
// reuse step indexes, and reads back every step in the order it ran.
func TestWholeStudyKeepsEveryStep(t *testing.T) {
	each(t, func(t *testing.T, s *Store, c *clock, dsn string) {
		p := newPlan(t, s, "checkout")
		j := newJob(t, s, p.ID, "study", "h")
		want := wholeStudy()
		for _, st := range want {
			raw, err := json.Marshal(st)
			must(t, err)
			must(t, s.AddStep(ctx, j.ID, st.Index, string(st.Phase), raw))
		}
		docs, err := s.Steps(ctx, j.ID)
		must(t, err)
		if len(docs) != len(want) {
			t.Fatalf("Steps returned %d steps, want %d (every phase's)", len(docs), len(want))
		}
		for i, d := range docs {
			var got capacity.Step
			must(t, json.Unmarshal(d, &got))
			if got.Phase != want[i].Phase || got.Index != want[i].Index || got.Rate != want[i].Rate {
				t.Errorf("step %d = %s %d at %v, want %s %d at %v", i, got.Phase, got.Index, got.Rate, want[i].Phase, want[i].Index, want[i].Rate)
			}
		}
	})
}

// TestStepsMigrationKeepsRows writes steps with the first schema (one key
// per index), opens the store, which migrates, and finds the rows kept in
// their order; then a verify step with a reused index is stored beside them.
func TestStepsMigrationKeepsRows(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			dsn := b.dsn(t)
			driver, dialect, dir, conn := "sqlite3", goose.DialectSQLite3, "sqlite", dsn+"?_foreign_keys=on"
			if b.name == "postgres" {
				driver, dialect, dir, conn = "pgx", goose.DialectPostgres, "postgres", dsn
			}
			db, err := sql.Open(driver, conn)
			must(t, err)
			defer db.Close()
			sub, err := fs.Sub(migrations.FS, dir)
			must(t, err)
			pr, err := goose.NewProvider(dialect, db, sub)
			must(t, err)
			_, err = pr.UpTo(ctx, 1)
			must(t, err)
			q := func(s string) string {
				if b.name != "postgres" {
					return s
				}
				for i := 1; strings.Contains(s, "?"); i++ {
					s = strings.Replace(s, "?", fmt.Sprintf("$%d", i), 1)
				}
				return s
			}
			now := time.Now().UTC()
			var planID, jobID int64
			must(t, db.QueryRowContext(ctx, q(`INSERT INTO plans (name, created) VALUES (?, ?) RETURNING id`), "old", now).Scan(&planID))
			_, err = db.ExecContext(ctx, q(`INSERT INTO plan_versions (plan_id, version, yaml, created) VALUES (?, 1, 'x: 1', ?)`), planID, now)
			must(t, err)
			must(t, db.QueryRowContext(ctx, q(`INSERT INTO jobs (plan_id, plan_version, kind, status, created) VALUES (?, 1, 'study', 'passed', ?) RETURNING id`), planID, now).Scan(&jobID))
			for i, ph := range []string{"baseline", "explore", "search"} {
				_, err = db.ExecContext(ctx, q(`INSERT INTO job_steps (job_id, idx, phase, doc) VALUES (?, ?, ?, ?)`), jobID, i+1, ph, fmt.Sprintf(`{"index":%d,"phase":%q}`, i+1, ph))
				must(t, err)
			}
			db.Close()

			s := open(t, dsn, nil)
			must(t, s.AddStep(ctx, jobID, 1, "verify", json.RawMessage(`{"index":1,"phase":"verify"}`)))
			docs, err := s.Steps(ctx, jobID)
			must(t, err)
			var got []string
			for _, d := range docs {
				got = append(got, string(d))
			}
			want := []string{`{"index":1,"phase":"baseline"}`, `{"index":2,"phase":"explore"}`, `{"index":3,"phase":"search"}`, `{"index":1,"phase":"verify"}`}
			if strings.Join(got, " ") != strings.Join(want, " ") {
				t.Fatalf("Steps after the migration = %v, want %v", got, want)
			}
		})
	}
}
