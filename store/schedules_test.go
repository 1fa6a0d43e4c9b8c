package store

import (
	"reflect"
	"sync"
	"testing"
	"time"
)

func TestSchedulesAndReviews(t *testing.T) {
	each(t, func(t *testing.T, s *Store, c *clock, dsn string) {
		p := newPlan(t, s, "checkout")
		next := time.Date(2026, 3, 2, 2, 0, 0, 0, time.UTC)
		at := c.Peek()
		sc, err := s.CreateSchedule(ctx, Schedule{PlanID: p.ID, Kind: "study", Cron: "0 2 * * *", Webhook: "http://127.0.0.1:9/hook",
			Enabled: true, NextRun: &next})
		must(t, err)
		if sc.ID == 0 || !sc.Created.Equal(at) || sc.LastRun != nil || !sc.NextRun.Equal(next) {
			t.Fatalf("CreateSchedule = %+v", sc)
		}
		got, err := s.GetSchedule(ctx, sc.ID)
		must(t, err)
		if !reflect.DeepEqual(got, sc) {
			t.Fatalf("GetSchedule = %+v, want %+v", got, sc)
		}

		sc.Cron, sc.Enabled, sc.NextRun = "*/5 * * * * *", false, nil
		up, err := s.UpdateSchedule(ctx, sc)
		must(t, err)
		if up.Cron != "*/5 * * * * *" || up.Enabled || up.NextRun != nil || !up.Created.Equal(sc.Created) {
			t.Fatalf("UpdateSchedule = %+v", up)
		}
		ran, next2 := c.Now(), c.Now().Add(5*time.Second)
		must(t, s.MarkScheduleRun(ctx, sc.ID, ran, next2))
		got, err = s.GetSchedule(ctx, sc.ID)
		must(t, err)
		if got.LastRun == nil || !got.LastRun.Equal(ran) || got.NextRun == nil || !got.NextRun.Equal(next2) {
			t.Fatalf("after MarkScheduleRun: last %v next %v, want %v %v", got.LastRun, got.NextRun, ran, next2)
		}
		sc2, err := s.CreateSchedule(ctx, Schedule{PlanID: p.ID, Kind: "run", Cron: "@hourly"})
		must(t, err)
		list, err := s.ListSchedules(ctx)
		must(t, err)
		if len(list) != 2 || list[0].ID != sc.ID || list[1].ID != sc2.ID || list[1].Enabled {
			t.Fatalf("ListSchedules = %+v", list)
		}

		j := newJob(t, s, p.ID, "study", "h")
		base := newJob(t, s, p.ID, "study", "h")
		rv, err := s.AddReview(ctx, Review{ScheduleID: sc.ID, JobID: j.ID, BaselineJobID: base.ID, Verdict: "regression",
			Reasons: []string{"p99 +40%", "error rate 2%"}, WebhookStatus: "pending"})
		must(t, err)
		rv.WebhookStatus, rv.WebhookAttempts = "delivered", 2
		must(t, s.UpdateReview(ctx, rv))
		rv2, err := s.AddReview(ctx, Review{ScheduleID: sc2.ID, Verdict: "fail", Reasons: []string{"no job"}})
		must(t, err)

		rs, err := s.ListReviews(ctx, sc.ID)
		must(t, err)
		if len(rs) != 1 || !reflect.DeepEqual(rs[0], rv) {
			t.Fatalf("ListReviews(%d) = %+v, want [%+v]", sc.ID, rs, rv)
		}
		all, err := s.ListReviews(ctx, 0)
		must(t, err)
		if len(all) != 2 || all[0].ID != rv2.ID || all[0].JobID != 0 || all[0].BaselineJobID != 0 {
			t.Fatalf("ListReviews(0) = %+v, want both, newest first", all)
		}

		must(t, s.DeleteSchedule(ctx, sc.ID))
		_, err = s.GetSchedule(ctx, sc.ID)
		wantErr(t, err, ErrNotFound, "GetSchedule of a deleted schedule")
		if rs, _ := s.ListReviews(ctx, sc.ID); len(rs) != 0 {
			t.Fatalf("a deleted schedule kept %d reviews", len(rs))
		}
		wantErr(t, s.DeleteSchedule(ctx, sc.ID), ErrNotFound, "DeleteSchedule twice")
		_, err = s.UpdateSchedule(ctx, sc)
		wantErr(t, err, ErrNotFound, "UpdateSchedule of a deleted schedule")
		wantErr(t, s.MarkScheduleRun(ctx, sc.ID, ran, next2), ErrNotFound, "MarkScheduleRun of a deleted schedule")
		wantErr(t, s.UpdateReview(ctx, rv), ErrNotFound, "UpdateReview of a deleted review")
		_, err = s.CreateSchedule(ctx, Schedule{PlanID: 999, Kind: "run", Cron: "@hourly"})
		wantErr(t, err, ErrNotFound, "CreateSchedule of an unknown plan")
	})
}

// TestClaimScheduleRunOnce has several stores (as several servers) claim the
// same due run at once: exactly one wins.
func TestClaimScheduleRunOnce(t *testing.T) {
	each(t, func(t *testing.T, s *Store, c *clock, dsn string) {
		p := newPlan(t, s, "checkout")
		due := time.Date(2026, 3, 1, 9, 0, 5, 0, time.UTC)
		sc, err := s.CreateSchedule(ctx, Schedule{PlanID: p.ID, Kind: "run", Cron: "@every 5s", Enabled: true, NextRun: &due})
		must(t, err)
		stores := []*Store{s, open(t, dsn, nil), open(t, dsn, nil)}
		var wg sync.WaitGroup
		var mu sync.Mutex
		wins := 0
		for _, st := range stores {
			for w := 0; w < 3; w++ {
				wg.Add(1)
				go func() {
					defer wg.Done()
					won, err := st.ClaimScheduleRun(ctx, sc.ID, due, due, due.Add(5*time.Second))
					if err != nil {
						t.Error(err)
					}
					if won {
						mu.Lock()
						wins++
						mu.Unlock()
					}
				}()
			}
		}
		wg.Wait()
		if wins != 1 {
			t.Fatalf("%d claims of one due run won, want 1", wins)
		}
		got, err := s.GetSchedule(ctx, sc.ID)
		must(t, err)
		if !got.LastRun.Equal(due) || !got.NextRun.Equal(due.Add(5*time.Second)) {
			t.Fatalf("after the claim: last %v next %v", got.LastRun, got.NextRun)
		}
		// The next slot can be claimed; a disabled schedule cannot.
		next := due.Add(5 * time.Second)
		if won, err := s.ClaimScheduleRun(ctx, sc.ID, next, next, next.Add(5*time.Second)); err != nil || !won {
			t.Fatalf("claim of the next slot = %v, %v", won, err)
		}
		got.Enabled = false
		_, err = s.UpdateSchedule(ctx, got)
		must(t, err)
		if won, err := s.ClaimScheduleRun(ctx, sc.ID, *got.NextRun, next, next); err != nil || won {
			t.Fatalf("claim of a disabled schedule = %v, %v", won, err)
		}
		_, err = s.ClaimScheduleRun(ctx, sc.ID+100, due, due, due)
		wantErr(t, err, ErrNotFound, "ClaimScheduleRun of an unknown schedule")
	})
}
