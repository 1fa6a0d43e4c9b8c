package store

import (
	"bytes"
	"encoding/json"
	"reflect"
	"sync"
	"testing"
	"time"
)

var zero time.Time

func TestWindowsRoundTripAndRange(t *testing.T) {
	each(t, func(t *testing.T, s *Store, c *clock, dsn string) {
		p := newPlan(t, s, "checkout")
		j := newJob(t, s, p.ID, "study", "h")
		t0 := time.Date(2026, 3, 1, 10, 0, 0, 250_000_000, time.UTC)
		hdr := []byte{0x1c, 0x84, 0x93, 0x14, 0x00, 0xff, 0x00} // any bytes, NUL and 0xff included
		var ws []Window
		for i := 0; i < 5; i++ {
			start := t0.Add(time.Duration(i) * time.Second)
			ws = append(ws,
				Window{Seq: i + 1, Phase: "search", Step: 2, Start: start, DurationS: 1, Offered: 50, Requests: 49, Errors: 1,
					Iterations: 49, Dropped: 1, InFlight: 3.5, VUs: 8, Classes: map[string]int64{"5xx": 1}, HDR: hdr,
					Exemplars: json.RawMessage(`[{"trace_id":"abc","ms":120}]`)},
				Window{Seq: i + 1, Phase: "search", Step: 2, Name: "GET /cart", Start: start, DurationS: 1, Requests: 30, HDR: hdr[:3]},
			)
		}
		// Written as they arrive: a batch per second.
		for i := 0; i < len(ws); i += 2 {
			must(t, s.AppendWindows(ctx, j.ID, ws[i:i+2]))
		}
		must(t, s.AppendWindows(ctx, j.ID, nil))

		all, err := s.Windows(ctx, j.ID, zero, zero)
		must(t, err)
		if len(all) != 10 {
			t.Fatalf("%d windows, want 10", len(all))
		}
		for i, got := range all {
			want := ws[i]
			want.JobID = j.ID
			if !got.Start.Equal(want.Start) {
				t.Fatalf("window %d starts %v, want %v", i, got.Start, want.Start)
			}
			got.Start = want.Start
			if !bytes.Equal(got.HDR, want.HDR) {
				t.Fatalf("window %d HDR = %x, want %x", i, got.HDR, want.HDR)
			}
			if string(got.Exemplars) != string(want.Exemplars) {
				t.Fatalf("window %d exemplars = %s, want %s", i, got.Exemplars, want.Exemplars)
			}
			got.Exemplars, want.Exemplars = nil, nil
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("window %d:\n got %+v\nwant %+v", i, got, want)
			}
		}

		// [from, to): from second 1 (inclusive) to second 3 (exclusive).
		span, err := s.Windows(ctx, j.ID, t0.Add(time.Second), t0.Add(3*time.Second))
		must(t, err)
		if len(span) != 4 || span[0].Seq != 2 || span[3].Seq != 3 || span[0].Name != "" || span[1].Name != "GET /cart" {
			t.Fatalf("span = %+v, want seconds 2 and 3, all requests before GET /cart", span)
		}
		open, err := s.Windows(ctx, j.ID, t0.Add(4*time.Second), zero)
		must(t, err)
		if len(open) != 2 || open[0].Seq != 5 {
			t.Fatalf("from the last second: %d windows", len(open))
		}
		upTo, err := s.Windows(ctx, j.ID, zero, t0.Add(time.Second))
		must(t, err)
		if len(upTo) != 2 || upTo[0].Seq != 1 {
			t.Fatalf("up to the first second: %d windows", len(upTo))
		}
		none, err := s.Windows(ctx, j.ID, t0.Add(time.Hour), zero)
		must(t, err)
		if len(none) != 0 {
			t.Fatalf("after the end: %d windows", len(none))
		}
	})
}

func TestAppendWindowsIsOneTransaction(t *testing.T) {
	each(t, func(t *testing.T, s *Store, c *clock, dsn string) {
		p := newPlan(t, s, "checkout")
		j := newJob(t, s, p.ID, "run", "h")
		t0 := c.Now()
		must(t, s.AppendWindows(ctx, j.ID, []Window{{Seq: 1, Start: t0}}))
		err := s.AppendWindows(ctx, j.ID, []Window{{Seq: 2, Start: t0.Add(time.Second)}, {Seq: 1, Start: t0}})
		wantErr(t, err, ErrConflict, "a second stored twice")
		ws, err := s.Windows(ctx, j.ID, zero, zero)
		must(t, err)
		if len(ws) != 1 {
			t.Fatalf("a failed batch left %d windows, want 1 (none of the batch)", len(ws))
		}
		wantErr(t, s.AppendWindows(ctx, j.ID+100, []Window{{Seq: 1, Start: t0}}), ErrNotFound, "AppendWindows of an unknown job")
		_, err = s.Windows(ctx, j.ID+100, zero, zero)
		wantErr(t, err, ErrNotFound, "Windows of an unknown job")
	})
}

func TestEventsAfterID(t *testing.T) {
	each(t, func(t *testing.T, s *Store, c *clock, dsn string) {
		p := newPlan(t, s, "checkout")
		j := newJob(t, s, p.ID, "study", "h")
		other := newJob(t, s, p.ID, "study", "h")
		var ids []int64
		for i, typ := range []string{"phase", "window", "window", "step", "end"} {
			id, err := s.AppendEvent(ctx, j.ID, typ, json.RawMessage(`{"n":`+string(rune('0'+i))+`}`))
			must(t, err)
			ids = append(ids, id)
			if _, err := s.AppendEvent(ctx, other.ID, "window", nil); err != nil {
				t.Fatal(err)
			}
		}
		for i := 1; i < len(ids); i++ {
			if ids[i] <= ids[i-1] {
				t.Fatalf("event ids do not grow: %v", ids)
			}
		}
		all, err := s.Events(ctx, j.ID, 0, 0)
		must(t, err)
		if len(all) != 5 || all[0].Type != "phase" || all[4].Type != "end" || string(all[2].Data) != `{"n":2}` || all[0].JobID != j.ID {
			t.Fatalf("Events = %+v", all)
		}
		if all[0].At.IsZero() || !all[1].At.After(all[0].At) {
			t.Fatalf("event times %v, %v: want the clock's, growing", all[0].At, all[1].At)
		}
		after, err := s.Events(ctx, j.ID, ids[1], 0)
		must(t, err)
		if len(after) != 3 || after[0].ID != ids[2] {
			t.Fatalf("Events after %d = %+v, want the last 3", ids[1], after)
		}
		page, err := s.Events(ctx, j.ID, ids[0], 2)
		must(t, err)
		if len(page) != 2 || page[0].ID != ids[1] || page[1].ID != ids[2] {
			t.Fatalf("Events after %d limit 2 = %+v", ids[0], page)
		}
		none, err := s.Events(ctx, j.ID, ids[4], 0)
		must(t, err)
		if len(none) != 0 {
			t.Fatalf("Events after the last = %+v", none)
		}
		_, err = s.AppendEvent(ctx, other.ID+100, "window", nil)
		wantErr(t, err, ErrNotFound, "AppendEvent of an unknown job")
	})
}

func TestStepsFindingsBaseline(t *testing.T) {
	each(t, func(t *testing.T, s *Store, c *clock, dsn string) {
		p := newPlan(t, s, "checkout")
		q := newPlan(t, s, "search")
		j := newJob(t, s, p.ID, "study", "h")
		j2 := newJob(t, s, p.ID, "study", "h")
		qj := newJob(t, s, q.ID, "run", "h")

		must(t, s.AddStep(ctx, j.ID, 1, "explore", json.RawMessage(`{"rate":10}`)))
		must(t, s.AddStep(ctx, j.ID, 0, "explore", json.RawMessage(`{"rate":5}`)))
		must(t, s.AddStep(ctx, j.ID, 1, "explore", json.RawMessage(`{"rate":12}`))) // replaces explore 1, keeps its place
		steps, err := s.Steps(ctx, j.ID)
		must(t, err)
		if len(steps) != 2 || string(steps[0]) != `{"rate":12}` || string(steps[1]) != `{"rate":5}` {
			t.Fatalf("Steps = %s", steps)
		}
		wantErr(t, s.AddStep(ctx, 999, 0, "x", json.RawMessage(`{}`)), ErrNotFound, "AddStep of an unknown job")
		_, err = s.Steps(ctx, 999)
		wantErr(t, err, ErrNotFound, "Steps of an unknown job")

		must(t, s.SetFindings(ctx, j.ID, []json.RawMessage{json.RawMessage(`{"kind":"a"}`), json.RawMessage(`{"kind":"b"}`)}))
		must(t, s.SetFindings(ctx, j.ID, []json.RawMessage{json.RawMessage(`{"kind":"c"}`)}))
		fs, err := s.Findings(ctx, j.ID)
		must(t, err)
		if len(fs) != 1 || string(fs[0]) != `{"kind":"c"}` {
			t.Fatalf("Findings after a second SetFindings = %s, want only c", fs)
		}
		must(t, s.SetFindings(ctx, j.ID, nil))
		if fs, _ := s.Findings(ctx, j.ID); len(fs) != 0 {
			t.Fatalf("Findings after SetFindings(nil) = %s", fs)
		}

		_, err = s.Baseline(ctx, p.ID)
		wantErr(t, err, ErrNotFound, "Baseline of a plan without one")
		must(t, s.SetBaseline(ctx, p.ID, j.ID))
		must(t, s.SetBaseline(ctx, p.ID, j2.ID))
		b, err := s.Baseline(ctx, p.ID)
		must(t, err)
		if b != j2.ID {
			t.Fatalf("Baseline = %d, want %d (the last set)", b, j2.ID)
		}
		wantErr(t, s.SetBaseline(ctx, p.ID, qj.ID), ErrConflict, "a baseline from another plan")
		wantErr(t, s.SetBaseline(ctx, p.ID, 999), ErrNotFound, "a baseline that is no job")
		wantErr(t, s.SetBaseline(ctx, 999, j.ID), ErrNotFound, "a baseline of no plan")
	})
}

// TestEventsReplayMissesNothing has several goroutines append events of one
// job while a reader follows with Events(after the last id it saw), as an SSE
// stream does: the reader ends up with every event.
func TestEventsReplayMissesNothing(t *testing.T) {
	const writers, perWriter = 4, 50
	each(t, func(t *testing.T, s *Store, c *clock, dsn string) {
		p := newPlan(t, s, "checkout")
		j := newJob(t, s, p.ID, "study", "h")
		done := make(chan struct{})
		errs := make(chan error, writers)
		go func() {
			defer close(done)
			var wg sync.WaitGroup
			for w := 0; w < writers; w++ {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for i := 0; i < perWriter; i++ {
						if _, err := s.AppendEvent(ctx, j.ID, "window", json.RawMessage(`{}`)); err != nil {
							errs <- err
							return
						}
					}
				}()
			}
			wg.Wait()
		}()
		seen := map[int64]bool{}
		var last int64
		for {
			finished := false
			select {
			case <-done:
				finished = true
			default:
			}
			evs, err := s.Events(ctx, j.ID, last, 0)
			must(t, err)
			for _, e := range evs {
				seen[e.ID] = true
				last = e.ID
			}
			if finished && len(evs) == 0 {
				break
			}
		}
		close(errs)
		for err := range errs {
			t.Fatal(err)
		}
		if len(seen) != writers*perWriter {
			t.Fatalf("the reader saw %d of %d events", len(seen), writers*perWriter)
		}
	})
}
