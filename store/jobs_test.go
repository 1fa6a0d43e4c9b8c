package store

import (
	"encoding/json"
	"fmt"
	"sort"
	"sync"
	"testing"
)

func newPlan(t *testing.T, s *Store, name string) Plan {
	t.Helper()
	p, err := s.CreatePlan(ctx, name, "name: "+name+"\n")
	must(t, err)
	return p
}

func newJob(t *testing.T, s *Store, planID int64, kind, target string) Job {
	t.Helper()
	j, err := s.CreateJob(ctx, Job{PlanID: planID, Kind: kind, Target: target})
	must(t, err)
	return j
}

func TestJobLifecycle(t *testing.T) {
	each(t, func(t *testing.T, s *Store, c *clock, dsn string) {
		p := newPlan(t, s, "checkout")
		_, err := s.AddPlanVersion(ctx, p.ID, "v2")
		must(t, err)
		at := c.Peek()
		settings := json.RawMessage(`{"base_url":"http://127.0.0.1:9","max_rate":50}`)
		j, err := s.CreateJob(ctx, Job{PlanID: p.ID, Kind: "study", Settings: settings, Target: "127.0.0.1:9",
			Status: Passed, Owner: "ignored"})
		must(t, err)
		if j.Status != Queued || j.PlanVersion != 2 || j.Owner != "" || !j.Created.Equal(at) || j.Started != nil {
			t.Fatalf("CreateJob = %+v, want queued at the latest version (2), created %v", j, at)
		}

		claimAt := c.Peek()
		cl, err := s.ClaimJob(ctx, "server-a", nil)
		must(t, err)
		if cl == nil || cl.ID != j.ID || cl.Status != Running || cl.Owner != "server-a" || cl.Started == nil || !cl.Started.Equal(claimAt) {
			t.Fatalf("ClaimJob = %+v, want job %d running for server-a since %v", cl, j.ID, claimAt)
		}
		if string(cl.Settings) != string(settings) {
			t.Fatalf("settings came back as %s, want %s", cl.Settings, settings)
		}

		must(t, s.SetPhase(ctx, j.ID, "search"))
		must(t, s.RequestCancel(ctx, j.ID))
		got, err := s.GetJob(ctx, j.ID)
		must(t, err)
		if got.Phase != "search" || !got.CancelRequested || got.Status != Running {
			t.Fatalf("after SetPhase and RequestCancel: %+v", got)
		}

		summary := json.RawMessage(`{"requests":100,"errors":1}`)
		result := json.RawMessage(`{"kind":"study","outcome":"cancelled","windows":[]}`)
		endAt := c.Peek()
		must(t, s.FinishJob(ctx, j.ID, Cancelled, summary, result, "cancelled by user"))
		must(t, s.SetVerdict(ctx, j.ID, "no_regression"))
		got, err = s.GetJob(ctx, j.ID)
		must(t, err)
		if got.Status != Cancelled || got.Finished == nil || !got.Finished.Equal(endAt) || got.Error != "cancelled by user" ||
			string(got.Summary) != string(summary) || string(got.Result) != string(result) || got.Verdict != "no_regression" {
			t.Fatalf("finished job = %+v", got)
		}

		wantErr(t, s.FinishJob(ctx, j.ID, Passed, nil, nil, ""), ErrConflict, "FinishJob of a finished job")
		wantErr(t, s.RequestCancel(ctx, j.ID), ErrConflict, "RequestCancel of a finished job")
		if err := s.FinishJob(ctx, j.ID, Running, nil, nil, ""); err == nil {
			t.Fatal("FinishJob with status running succeeded")
		}
		if err := s.FinishJob(ctx, j.ID, Passed, json.RawMessage(`{"x":`), nil, ""); err == nil {
			t.Fatal("FinishJob with a broken summary succeeded")
		}
	})
}

func TestJobsNotFound(t *testing.T) {
	each(t, func(t *testing.T, s *Store, c *clock, dsn string) {
		_, err := s.CreateJob(ctx, Job{PlanID: 99, Kind: "run"})
		wantErr(t, err, ErrNotFound, "CreateJob of an unknown plan")
		p := newPlan(t, s, "checkout")
		_, err = s.CreateJob(ctx, Job{PlanID: p.ID, PlanVersion: 7, Kind: "run"})
		wantErr(t, err, ErrNotFound, "CreateJob of an unknown plan version")
		_, err = s.GetJob(ctx, 99)
		wantErr(t, err, ErrNotFound, "GetJob")
		wantErr(t, s.SetPhase(ctx, 99, "run"), ErrNotFound, "SetPhase")
		wantErr(t, s.SetVerdict(ctx, 99, "x"), ErrNotFound, "SetVerdict")
		wantErr(t, s.RequestCancel(ctx, 99), ErrNotFound, "RequestCancel")
		wantErr(t, s.FinishJob(ctx, 99, Passed, nil, nil, ""), ErrNotFound, "FinishJob")
	})
}

func TestCancelQueuedJob(t *testing.T) {
	each(t, func(t *testing.T, s *Store, c *clock, dsn string) {
		p := newPlan(t, s, "checkout")
		j := newJob(t, s, p.ID, "run", "h")
		must(t, s.RequestCancel(ctx, j.ID))
		got, err := s.GetJob(ctx, j.ID)
		must(t, err)
		if got.Status != Cancelled || got.Finished == nil {
			t.Fatalf("a queued job cancelled: %+v, want cancelled and finished", got)
		}
		if cl, err := s.ClaimJob(ctx, "a", nil); err != nil || cl != nil {
			t.Fatalf("ClaimJob after cancel = %+v, %v; want nothing to claim", cl, err)
		}
	})
}

func TestClaimJobOrderAndBusyTargets(t *testing.T) {
	each(t, func(t *testing.T, s *Store, c *clock, dsn string) {
		p := newPlan(t, s, "checkout")
		if cl, err := s.ClaimJob(ctx, "a", nil); err != nil || cl != nil {
			t.Fatalf("ClaimJob on an empty store = %+v, %v", cl, err)
		}
		a1 := newJob(t, s, p.ID, "run", "a:80")
		a2 := newJob(t, s, p.ID, "run", "a:80")
		b1 := newJob(t, s, p.ID, "study", "b:80")
		c1 := newJob(t, s, p.ID, "run", "c:80")

		cl, err := s.ClaimJob(ctx, "x", []string{"a:80"})
		must(t, err)
		if cl == nil || cl.ID != b1.ID {
			t.Fatalf("ClaimJob with a:80 busy = %+v, want job %d (b:80)", cl, b1.ID)
		}
		cl, err = s.ClaimJob(ctx, "x", []string{"a:80", "b:80", "c:80"})
		must(t, err)
		if cl != nil {
			t.Fatalf("ClaimJob with every target busy = %+v, want nil", cl)
		}
		// a2 waits while a1 (same target) runs.
		for _, want := range []int64{a1.ID, c1.ID} {
			cl, err = s.ClaimJob(ctx, "x", nil)
			must(t, err)
			if cl == nil || cl.ID != want {
				t.Fatalf("ClaimJob = %+v, want the oldest queued of a free target, job %d", cl, want)
			}
		}
		if cl, err = s.ClaimJob(ctx, "x", nil); err != nil || cl != nil {
			t.Fatalf("ClaimJob while a:80 runs = %+v, %v; want nil (a2 waits)", cl, err)
		}
		must(t, s.FinishJob(ctx, a1.ID, Passed, nil, nil, ""))
		if cl, err = s.ClaimJob(ctx, "x", nil); err != nil || cl == nil || cl.ID != a2.ID {
			t.Fatalf("ClaimJob after a1 finished = %+v, %v; want a2", cl, err)
		}
		if cl, err = s.ClaimJob(ctx, "x", nil); err != nil || cl != nil {
			t.Fatalf("ClaimJob with no queued job = %+v, %v", cl, err)
		}
	})
}

// TestClaimJobExclusive has several stores on one database (as several
// servers) claim jobs at once: each job is claimed exactly once.
func TestClaimJobExclusive(t *testing.T) {
	const jobs, servers, workers = 50, 3, 4
	each(t, func(t *testing.T, s *Store, c *clock, dsn string) {
		p := newPlan(t, s, "checkout")
		want := map[int64]bool{}
		for i := 0; i < jobs; i++ {
			want[newJob(t, s, p.ID, "run", fmt.Sprintf("host-%d:80", i)).ID] = true
		}
		stores := []*Store{s}
		for i := 1; i < servers; i++ {
			stores = append(stores, open(t, dsn, nil))
		}
		var mu sync.Mutex
		claims := map[int64][]string{}
		var wg sync.WaitGroup
		errs := make(chan error, servers*workers)
		for i, st := range stores {
			for w := 0; w < workers; w++ {
				owner := fmt.Sprintf("server-%d/%d", i, w)
				wg.Add(1)
				go func() {
					defer wg.Done()
					for {
						j, err := st.ClaimJob(ctx, owner, nil)
						if err != nil {
							errs <- err
							return
						}
						if j == nil {
							return
						}
						if j.Owner != owner {
							errs <- fmt.Errorf("job %d claimed by %s came back owned by %s", j.ID, owner, j.Owner)
						}
						mu.Lock()
						claims[j.ID] = append(claims[j.ID], owner)
						mu.Unlock()
					}
				}()
			}
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Error(err)
		}
		if len(claims) != jobs {
			t.Errorf("%d jobs claimed, want %d", len(claims), jobs)
		}
		for id, owners := range claims {
			if !want[id] {
				t.Errorf("claimed unknown job %d", id)
			}
			if len(owners) != 1 {
				t.Errorf("job %d claimed %d times: %v", id, len(owners), owners)
			}
			got, err := s.GetJob(ctx, id)
			must(t, err)
			if got.Status != Running || got.Owner != owners[0] {
				t.Errorf("job %d is %s owned by %q, want running owned by %q", id, got.Status, got.Owner, owners[0])
			}
		}
	})
}

func TestMarkInterrupted(t *testing.T) {
	each(t, func(t *testing.T, s *Store, c *clock, dsn string) {
		p := newPlan(t, s, "checkout")
		for i := 0; i < 4; i++ {
			newJob(t, s, p.ID, "run", "")
		}
		claim := func(owner string) Job {
			j, err := s.ClaimJob(ctx, owner, nil)
			must(t, err)
			return *j
		}
		a, b, b2 := claim("a"), claim("b"), claim("b")
		must(t, s.AppendWindows(ctx, b.ID, []Window{{Seq: 1, Start: c.Now(), Requests: 5}}))

		n, err := s.MarkInterrupted(ctx, "b")
		must(t, err)
		if n != 2 {
			t.Fatalf("MarkInterrupted(b) = %d, want 2", n)
		}
		for _, id := range []int64{b.ID, b2.ID} {
			got, err := s.GetJob(ctx, id)
			must(t, err)
			if got.Status != Interrupted || got.Finished == nil {
				t.Fatalf("job %d after MarkInterrupted(b): %+v", id, got)
			}
		}
		ws, err := s.Windows(ctx, b.ID, zero, zero)
		must(t, err)
		if len(ws) != 1 || ws[0].Requests != 5 {
			t.Fatalf("an interrupted job's windows: %+v, want the one it had", ws)
		}
		got, err := s.GetJob(ctx, a.ID)
		must(t, err)
		if got.Status != Running {
			t.Fatalf("job of owner a is %s after MarkInterrupted(b)", got.Status)
		}
		n, err = s.MarkInterrupted(ctx, "")
		must(t, err)
		if n != 1 {
			t.Fatalf("MarkInterrupted(\"\") = %d, want 1 (job of a)", n)
		}
		queued, total, err := s.ListJobs(ctx, JobFilter{Status: Queued})
		must(t, err)
		if total != 1 || len(queued) != 1 {
			t.Fatalf("MarkInterrupted touched queued jobs: %d left queued, want 1", total)
		}
	})
}

func TestListJobsFilterAndPage(t *testing.T) {
	each(t, func(t *testing.T, s *Store, c *clock, dsn string) {
		checkout := newPlan(t, s, "Checkout_100%")
		search := newPlan(t, s, "search")
		var ids []int64
		for i := 0; i < 7; i++ {
			ids = append(ids, newJob(t, s, checkout.ID, "run", "shop:80").ID)
		}
		st := newJob(t, s, search.ID, "study", "search:80")
		cl, err := s.ClaimJob(ctx, "a", []string{"shop:80"})
		must(t, err)
		must(t, s.FinishJob(ctx, cl.ID, Failed, nil, json.RawMessage(`{"big":true}`), "connection refused"))

		all, total, err := s.ListJobs(ctx, JobFilter{})
		must(t, err)
		if total != 8 || len(all) != 8 || all[0].ID != st.ID {
			t.Fatalf("ListJobs() = %d of %d, first %d; want 8 of 8, newest (%d) first", len(all), total, all[0].ID, st.ID)
		}
		for _, j := range all {
			if j.Result != nil {
				t.Fatalf("ListJobs carries job %d's result document", j.ID)
			}
		}

		// Pages of 3, newest first, cover every checkout job once.
		var paged []int64
		for off := 0; off < 10; off += 3 {
			page, total, err := s.ListJobs(ctx, JobFilter{PlanID: checkout.ID, Limit: 3, Offset: off})
			must(t, err)
			if total != 7 {
				t.Fatalf("total of plan %d = %d, want 7", checkout.ID, total)
			}
			for _, j := range page {
				paged = append(paged, j.ID)
			}
		}
		sort.Slice(ids, func(i, j int) bool { return ids[i] > ids[j] })
		if fmt.Sprint(paged) != fmt.Sprint(ids) {
			t.Fatalf("pages = %v, want %v", paged, ids)
		}
		offOnly, _, err := s.ListJobs(ctx, JobFilter{PlanID: checkout.ID, Offset: 5})
		must(t, err)
		if len(offOnly) != 2 {
			t.Fatalf("offset 5 without a limit gave %d jobs, want 2", len(offOnly))
		}

		cases := []struct {
			name string
			f    JobFilter
			want int
		}{
			{"kind", JobFilter{Kind: "study"}, 1},
			{"status", JobFilter{Status: Queued}, 7},
			{"status failed", JobFilter{Status: Failed}, 1},
			{"plan and kind", JobFilter{PlanID: checkout.ID, Kind: "study"}, 0},
			{"query plan name, any case", JobFilter{Query: "CHECKOUT"}, 7},
			{"query error", JobFilter{Query: "refused"}, 1},
			{"query target", JobFilter{Query: "search:"}, 1},
			{"query % is literal", JobFilter{Query: "_100%"}, 7},
			{"query _ is literal", JobFilter{Query: "checkou__100"}, 0},
			{"query matches nothing", JobFilter{Query: "c%t"}, 0},
		}
		for _, tc := range cases {
			jobs, total, err := s.ListJobs(ctx, tc.f)
			must(t, err)
			if total != tc.want || len(jobs) != tc.want {
				t.Errorf("%s: %d jobs (total %d), want %d", tc.name, len(jobs), total, tc.want)
			}
		}
	})
}

// TestClaimJobOneRunningPerTarget has several stores claim at once from jobs
// of three targets: one job per target runs, whoever claims it; the next of a
// target is claimed once that one finished.
func TestClaimJobOneRunningPerTarget(t *testing.T) {
	const servers, workers, perTarget = 3, 4, 5
	targets := []string{"a:80", "b:80", "c:80"}
	each(t, func(t *testing.T, s *Store, c *clock, dsn string) {
		p := newPlan(t, s, "checkout")
		for i := 0; i < perTarget; i++ {
			for _, tg := range targets {
				newJob(t, s, p.ID, "run", tg)
			}
		}
		noTarget := newJob(t, s, p.ID, "run", "")
		stores := []*Store{s}
		for i := 1; i < servers; i++ {
			stores = append(stores, open(t, dsn, nil))
		}
		var wg sync.WaitGroup
		var mu sync.Mutex
		var claimed []*Job
		for _, st := range stores {
			for w := 0; w < workers; w++ {
				wg.Add(1)
				go func() {
					defer wg.Done()
					j, err := st.ClaimJob(ctx, "x", nil)
					if err != nil {
						t.Error(err)
						return
					}
					mu.Lock()
					claimed = append(claimed, j)
					mu.Unlock()
				}()
			}
		}
		wg.Wait()
		byTarget := map[string]int{}
		for _, j := range claimed {
			if j != nil {
				byTarget[j.Target]++
			}
		}
		for _, tg := range targets {
			if byTarget[tg] != 1 {
				t.Errorf("target %s: %d jobs claimed at once, want 1 (%v)", tg, byTarget[tg], byTarget)
			}
		}
		if byTarget[""] != 1 {
			t.Errorf("the job without a target: claimed %d times, want 1", byTarget[""])
		}
		running, _, err := s.ListJobs(ctx, JobFilter{Status: Running})
		must(t, err)
		if len(running) != 4 {
			t.Fatalf("%d jobs running, want 4 (one per target and the untargeted one %d)", len(running), noTarget.ID)
		}
		var a *Job
		for _, j := range claimed {
			if j != nil && j.Target == "a:80" {
				a = j
			}
		}
		if j, err := s.ClaimJob(ctx, "x", nil); err != nil || j != nil {
			t.Fatalf("a claim while every target runs = %+v, %v", j, err)
		}
		must(t, s.FinishJob(ctx, a.ID, Passed, nil, nil, ""))
		j, err := s.ClaimJob(ctx, "x", nil)
		must(t, err)
		if j == nil || j.Target != "a:80" {
			t.Fatalf("after a:80's job finished, ClaimJob = %+v, want the next of a:80", j)
		}
	})
}
