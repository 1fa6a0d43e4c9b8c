package store

import (
	"context"
	"testing"
	"time"
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
	if err := s.PutShard(ctx, Shard{JobID: job.ID, AgentID: a.ID, Index: 0, Count: 1, State: ShardAssigned}); err != nil {
		t.Fatal(err)
	}
	if err := s.PutShard(ctx, Shard{JobID: job.ID, AgentID: a.ID, Index: 0, Count: 1, State: ShardLost, Error: "gone"}); err != nil {
		t.Fatal(err)
	}
	sh, err := s.Shards(ctx, job.ID)
	if err != nil || len(sh) != 1 || sh[0].State != ShardLost {
		t.Fatalf("shards %+v %v", sh, err)
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
