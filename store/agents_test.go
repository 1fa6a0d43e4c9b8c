package store

import (
	"context"
	"database/sql"
	"io/fs"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/pressly/goose/v3"

	"github.com/headroom-sre/headroom/migrations"
)

// TestAgentLedger: an agent registers, takes a share of a job, and its
// windows are kept once per (job, agent, round, second).
func TestAgentLedger(t *testing.T) {
	each(t, func(t *testing.T, s *Store, _ *clock, _ string) { testAgentLedger(t, s) })
}

func testAgentLedger(t *testing.T, s *Store) {
	ctx := context.Background()
	pl, err := s.CreatePlan(ctx, "p", "version: 1\n")
	if err != nil {
		t.Fatal(err)
	}
	job, err := s.CreateJob(ctx, Job{PlanID: pl.ID, PlanVersion: pl.Version, Kind: "run"})
	if err != nil {
		t.Fatal(err)
	}
	a, err := s.RegisterAgent(ctx, Agent{Name: "a1", Cores: 2}, time.Now().Add(time.Minute))
	if err != nil || a.ID == 0 || a.State != AgentIdle {
		t.Fatalf("register: %+v %v", a, err)
	}
	if err := s.PutShards(ctx, Shard{JobID: job.ID, AgentID: a.ID, Index: 0, Count: 1, State: ShardAssigned}); err != nil {
		t.Fatal(err)
	}
	if err := s.PutShards(ctx, Shard{JobID: job.ID, AgentID: a.ID, Index: 0, Count: 1, State: ShardLost, Error: "gone"}); err != nil {
		t.Fatal(err)
	}
	sh, err := s.Shards(ctx, job.ID)
	if err != nil || len(sh) != 1 || sh[0].State != ShardLost || sh[0].Outlier != "" {
		t.Fatalf("shards %+v %v", sh, err)
	}
	const outlier = "p99 41.2 ms against the fleet's 10.3 ms for 3 s from second 4"
	if err := s.PutShards(ctx, Shard{JobID: job.ID, AgentID: a.ID, Index: 0, Count: 1, State: ShardDone, Outlier: outlier}); err != nil {
		t.Fatal(err)
	}
	if sh, err = s.Shards(ctx, job.ID); err != nil || len(sh) != 1 || sh[0].Outlier != outlier || sh[0].State != ShardDone {
		t.Fatalf("shards after the outlier: %+v %v", sh, err)
	}
	w := AgentWindow{JobID: job.ID, AgentID: a.ID, Round: 1, Second: 0, Seq: 0, Doc: []byte{1}}
	for i, want := range []bool{true, false} {
		added, err := s.IngestWindow(ctx, w)
		if err != nil || added != want {
			t.Fatalf("ingest %d: added %v, %v; want %v", i, added, err, want)
		}
	}
	ws, err := s.AgentWindows(ctx, job.ID, a.ID, 1)
	if err != nil || len(ws) != 1 {
		t.Fatalf("windows %v %v", ws, err)
	}
}

// TestShardOutlierMigratesOutOfOrder: a database already past the profiles'
// migration (00300) without the shards' outlier column (00101) opens, gets
// the column, and its shards keep their outlier.
func TestShardOutlierMigratesOutOfOrder(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			ctx := context.Background()
			dsn := b.dsn(t)
			dialect, dir, driver, conn := goose.DialectSQLite3, "sqlite", "sqlite3", dsn+"?_foreign_keys=on"
			if b.name == "postgres" {
				dialect, dir, driver, conn = goose.DialectPostgres, "postgres", "pgx", dsn
			}
			sub, err := fs.Sub(migrations.FS, dir)
			must(t, err)
			without := fstest.MapFS{}
			must(t, fs.WalkDir(sub, ".", func(path string, d fs.DirEntry, err error) error {
				if err != nil || d.IsDir() || strings.HasPrefix(path, "00101_") {
					return err
				}
				raw, err := fs.ReadFile(sub, path)
				without[path] = &fstest.MapFile{Data: raw}
				return err
			}))
			db, err := sql.Open(driver, conn)
			must(t, err)
			p, err := goose.NewProvider(dialect, db, without)
			must(t, err)
			if _, err := p.Up(ctx); err != nil {
				t.Fatal(err)
			}
			if v, err := p.GetDBVersion(ctx); err != nil || v < 300 {
				t.Fatalf("old database at version %d (%v), want 300 or more", v, err)
			}
			must(t, db.Close())
			s := open(t, dsn, nil)
			pl, err := s.CreatePlan(ctx, "q", "version: 1\n")
			must(t, err)
			job, err := s.CreateJob(ctx, Job{PlanID: pl.ID, PlanVersion: pl.Version, Kind: "run"})
			must(t, err)
			a, err := s.RegisterAgent(ctx, Agent{Name: "a1"}, time.Now().Add(time.Minute))
			must(t, err)
			must(t, s.PutShards(ctx, Shard{JobID: job.ID, AgentID: a.ID, Count: 1, State: ShardDone, Outlier: "p99 30.0 ms"}))
			if sh, err := s.Shards(ctx, job.ID); err != nil || len(sh) != 1 || sh[0].Outlier != "p99 30.0 ms" {
				t.Fatalf("shards %+v %v", sh, err)
			}
		})
	}
}
