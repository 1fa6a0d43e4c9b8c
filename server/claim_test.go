package server_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/headroom-sre/headroom/server"
	"github.com/headroom-sre/headroom/store"
	"github.com/headroom-sre/headroom/store/storetest"
)

// countingTarget is a loopback service that counts what it is sent.
func countingTarget(t *testing.T) (*httptest.Server, *atomic.Int64) {
	var n atomic.Int64
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n.Add(1)
		io.WriteString(w, "ok")
	}))
	t.Cleanup(ts.Close)
	return ts, &n
}

func TestTwoServersOnOnePostgresRunEachJobOnce(t *testing.T) {
	dsn := storetest.StartPostgres(t)
	ctx := context.Background()
	open := func() *store.Store {
		st, err := store.Open(ctx, dsn, store.Options{})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		return st
	}
	stA, stB := open(), open()

	// Ten queued jobs over five targets, before any server starts.
	type queued struct {
		id     int64
		target *atomic.Int64
	}
	var jobs []queued
	for i := range 5 {
		tgt, count := countingTarget(t)
		p, err := stA.CreatePlan(ctx, fmt.Sprintf("claim-%d", i), runPlan(fmt.Sprintf("claim-%d", i), tgt.URL, 1, 20))
		if err != nil {
			t.Fatal(err)
		}
		for range 2 {
			j, err := stA.CreateJob(ctx, store.Job{PlanID: p.ID, PlanVersion: p.Version, Kind: "run",
				Settings: json.RawMessage(`{}`), Target: tgt.Listener.Addr().String()})
			if err != nil {
				t.Fatal(err)
			}
			jobs = append(jobs, queued{j.ID, count})
		}
	}
	a := startOn(t, stA, server.Config{Owner: "server-a", MaxJobs: 3})
	b := startOn(t, stB, server.Config{Owner: "server-b", MaxJobs: 3})

	owners := map[string]int{}
	sent := map[*atomic.Int64]int64{}
	spans := map[*atomic.Int64][][2]time.Time{}
	for _, q := range jobs {
		j := a.waitJob(t, q.id, 2*time.Minute, isFinished)
		if j.Status != "passed" {
			t.Fatalf("job %d: %+v", q.id, j)
		}
		row, err := stA.GetJob(ctx, q.id)
		if err != nil {
			t.Fatal(err)
		}
		owners[row.Owner]++
		spans[q.target] = append(spans[q.target], [2]time.Time{*row.Started, *row.Finished})
		var sum struct{ Requests int64 }
		if err := json.Unmarshal(j.Summary, &sum); err != nil || sum.Requests == 0 {
			t.Fatalf("job %d summary %s", q.id, j.Summary)
		}
		sent[q.target] += sum.Requests
		// One start and one end: it ran once.
		evs, err := stB.Events(ctx, q.id, 0, 10000)
		if err != nil {
			t.Fatal(err)
		}
		starts := 0
		for _, e := range evs {
			if e.Type == "status" && string(e.Data) == `{"status":"running"}` {
				starts++
			}
		}
		if starts != 1 {
			t.Errorf("job %d started %d times", q.id, starts)
		}
	}
	// Every request a target saw belongs to one job's one run.
	for count, n := range sent {
		if got := count.Load(); got != n {
			t.Errorf("a target saw %d requests, its jobs report %d", got, n)
		}
	}
	// One load job per target at a time, across both servers.
	for _, sp := range spans {
		if len(sp) == 2 && sp[0][0].Before(sp[1][1]) && sp[1][0].Before(sp[0][1]) {
			t.Errorf("two jobs of one target overlapped: %v and %v", sp[0], sp[1])
		}
	}
	if owners["server-a"]+owners["server-b"] != len(jobs) {
		t.Errorf("owners %v", owners)
	}
	t.Logf("jobs run by each server: %v", owners)
	_ = b
}
