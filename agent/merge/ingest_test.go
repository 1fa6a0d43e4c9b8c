package merge

import (
	"errors"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

var trio = []agentSpec{{"a", 10_000, 50}, {"b", 11_000, 50}, {"c", 9_000, 50}}

func TestDuplicateAndOutOfOrderWindowsAreMergedOnce(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	m := mustNew(t, Options{Agents: ids(trio), Start: t0})
	w := map[string][]Window{}
	for _, a := range trio {
		for s := int64(0); s < 3; s++ {
			w[a.id] = append(w[a.id], window(t, r, a, s, names, nil))
		}
	}
	// Second 1 and 2 arrive before second 0, agents in any order.
	mustAdd(t, m, w["c"][2], Accepted)
	mustAdd(t, m, w["b"][1], Accepted)
	mustAdd(t, m, w["a"][1], Accepted)
	mustAdd(t, m, w["c"][1], Accepted)
	if got := m.Ready(t0.Add(2 * time.Second)); len(got) != 0 {
		t.Fatalf("second 1 emitted before second 0: %d seconds", len(got))
	}
	mustAdd(t, m, w["b"][1], Duplicate) // a retransmission
	mustAdd(t, m, w["a"][0], Accepted)
	mustAdd(t, m, w["b"][0], Accepted)
	mustAdd(t, m, w["c"][0], Accepted)
	mustAdd(t, m, w["a"][0], Duplicate)
	conflict := w["a"][0]
	conflict.Seq = 99
	if _, err := m.Add(conflict); !errors.Is(err, ErrConflict) {
		t.Errorf("another seq for a kept (agent, second): %v, want ErrConflict", err)
	}
	got := m.Ready(t0.Add(2 * time.Second)) // before any deadline
	if len(got) != 2 || got[0].Index != 0 || got[1].Index != 1 {
		t.Fatalf("Ready gave %v, want seconds 0 and 1 in order", indexes(got))
	}
	for _, sec := range got {
		var want int64
		for _, a := range trio {
			want += w[a.id][sec.Index].Total.Requests
		}
		if sec.Total.Requests != want || sec.Short() {
			t.Errorf("second %d: %d requests (short %v), want %d from each window once", sec.Index, sec.Total.Requests, sec.Missing, want)
		}
	}
	mustAdd(t, m, w["a"][1], Duplicate) // retransmitted after its second was emitted
	mustAdd(t, m, w["b"][0], Duplicate)
	st := m.Stats()
	want := Stats{Accepted: 7, Duplicates: 4, Conflicts: 1, Emitted: 2}
	if st != want {
		t.Errorf("stats %+v, want %+v", st, want)
	}
}

func TestLateWindowIsCountedNotMerged(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 10))
	m := mustNew(t, Options{Agents: []string{"a", "b"}, Start: t0, Grace: time.Second})
	mustAdd(t, m, window(t, r, trio[0], 0, names, nil), Accepted)
	got := m.Ready(t0.Add(2 * time.Second)) // 1 s past the end of second 0: its deadline
	if len(got) != 1 || !slices.Equal(got[0].Missing, []string{"b"}) {
		t.Fatalf("Ready at the deadline: %v, want second 0 short of b", indexes(got))
	}
	b := trio[1]
	b.id = "b"
	mustAdd(t, m, window(t, r, b, 0, names, nil), Late)
	if st := m.Stats(); st.Late != 1 || st.Short != 1 || st.Accepted != 1 {
		t.Errorf("stats %+v, want 1 late, 1 short, 1 accepted", st)
	}
}

func TestMissingAgentMakesTheSecondShortAfterTheDeadline(t *testing.T) {
	r := rand.New(rand.NewPCG(11, 12))
	m := mustNew(t, Options{Agents: ids(trio), Start: t0}) // default grace 3 s
	for _, a := range trio[:2] {
		mustAdd(t, m, window(t, r, a, 0, names, nil), Accepted)
		mustAdd(t, m, window(t, r, a, 1, names, nil), Accepted)
	}
	if got := m.Ready(t0.Add(3999 * time.Millisecond)); len(got) != 0 {
		t.Fatalf("emitted %v before second 0's deadline (start + 1 s + 3 s)", indexes(got))
	}
	got := m.Ready(t0.Add(4 * time.Second))
	if len(got) != 1 || got[0].Index != 0 {
		t.Fatalf("at second 0's deadline: %v, want only second 0", indexes(got))
	}
	sec := got[0]
	if !sec.Short() || !slices.Equal(sec.Missing, []string{"c"}) || !slices.Equal(sec.Agents, []string{"a", "b"}) {
		t.Errorf("second 0: agents %v missing %v, want a,b and c missing", sec.Agents, sec.Missing)
	}
	// c is gone for good from second 1 on: the seconds after it stop
	// waiting for it; second 1 still shows it missing.
	if err := m.Expect(2, []string{"a", "b"}); err != nil {
		t.Fatal(err)
	}
	for _, a := range trio[:2] {
		mustAdd(t, m, window(t, r, a, 2, names, nil), Accepted)
	}
	got = m.Ready(t0.Add(5 * time.Second)) // second 1's deadline; second 2 is complete
	if len(got) != 2 || !slices.Equal(got[0].Missing, []string{"c"}) || got[1].Short() {
		t.Fatalf("after Expect: %v, want second 1 short of c and second 2 complete", indexes(got))
	}
	if _, err := m.Add(window(t, r, trio[2], 3, names, nil)); !errors.Is(err, ErrUnknownAgent) {
		t.Errorf("c's window after it left the fleet: %v, want ErrUnknownAgent", err)
	}
}

func TestGapSecondsWithNoWindowAreEmittedEmptyAndShort(t *testing.T) {
	r := rand.New(rand.NewPCG(13, 14))
	m := mustNew(t, Options{Agents: []string{"a"}, Start: t0})
	mustAdd(t, m, window(t, r, trio[0], 0, names, nil), Accepted)
	mustAdd(t, m, window(t, r, trio[0], 2, names, nil), Accepted)
	got := m.Flush()
	if len(got) != 3 {
		t.Fatalf("Flush gave %v, want 0, 1, 2", indexes(got))
	}
	if gap := got[1]; !slices.Equal(gap.Missing, []string{"a"}) || gap.Total.Requests != 0 || gap.Total.Hist == nil || gap.Duration != time.Second {
		t.Errorf("gap second: missing %v, %d requests, hist %v, duration %v", gap.Missing, gap.Total.Requests, gap.Total.Hist, gap.Duration)
	}
	if got := m.Flush(); len(got) != 0 {
		t.Errorf("a second Flush gave %v", indexes(got))
	}
}

func TestBadWindowsAreRejectedNamingTheField(t *testing.T) {
	r := rand.New(rand.NewPCG(15, 16))
	good := window(t, r, trio[0], 0, names, nil)
	cases := []struct {
		name  string
		edit  func(w *Window)
		field string
	}{
		{"no agent", func(w *Window) { w.Agent = "" }, "agent"},
		{"negative second", func(w *Window) { w.Second = -1 }, "second"},
		{"no duration", func(w *Window) { w.Duration = 0 }, "duration_ns"},
		{"negative dropped", func(w *Window) { w.Dropped = -3 }, "dropped"},
		{"errors above requests", func(w *Window) { w.Total.Errors = w.Total.Requests + 1 }, "total: errors"},
		{"corrupt histogram", func(w *Window) { w.ByName[1].HDR = []byte("not an hdr histogram") }, "by_name cart: hdr"},
		{"truncated histogram", func(w *Window) { w.Total.HDR = w.Total.HDR[:len(w.Total.HDR)/2] }, "total: hdr"},
		{"names unsorted", func(w *Window) { w.ByName[0], w.ByName[1] = w.ByName[1], w.ByName[0] }, "by_name[1].name"},
		{"far ahead", func(w *Window) { w.Second = maxAhead }, "second: more than"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			m := mustNew(t, Options{Agents: []string{"a", "x"}, Start: t0})
			w := good
			w.ByName = slices.Clone(good.ByName)
			c.edit(&w)
			_, err := m.Add(w)
			if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), c.field) {
				t.Fatalf("error %v, want ErrInvalid naming %q", err, c.field)
			}
			if m.Stats().Rejected != 1 || m.Stats().Accepted != 0 {
				t.Errorf("stats %+v, want 1 rejected", m.Stats())
			}
		})
	}
}

func TestNewRejectsBadOptions(t *testing.T) {
	for _, c := range []struct {
		opts Options
		want string
	}{
		{Options{Agents: []string{"a"}}, "start"},
		{Options{Start: t0}, "agents"},
		{Options{Agents: []string{"a", "a"}, Start: t0}, "repeated"},
		{Options{Agents: []string{"a", ""}, Start: t0}, "agents[1]"},
		{Options{Agents: []string{"a"}, Start: t0, Grace: -time.Second}, "grace"},
		{Options{Agents: []string{"a"}, Start: t0, Outliers: OutlierOptions{Factor: 0.5}}, "outliers.factor"},
		{Options{Agents: []string{"a"}, Start: t0, Outliers: OutlierOptions{Stat: "p42"}}, "outliers.stat"},
	} {
		if _, err := New(c.opts); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("New(%+v): %v, want an error naming %q", c.opts, err, c.want)
		}
	}
}

func TestConcurrentAgentsMergeEverythingOnce(t *testing.T) {
	const agents, seconds = 8, 6
	var specs []agentSpec
	for i := 0; i < agents; i++ {
		specs = append(specs, agentSpec{id: string(rune('a' + i)), medianUs: 5_000, perName: 20})
	}
	m := mustNew(t, Options{Agents: ids(specs), Start: t0})
	var wg sync.WaitGroup
	var mu sync.Mutex
	var emitted []Second
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() { // the server's ticker
		defer close(done)
		for {
			got := m.Ready(t0) // complete seconds only
			mu.Lock()
			emitted = append(emitted, got...)
			mu.Unlock()
			select {
			case <-stop:
				return
			case <-time.After(time.Millisecond):
			}
		}
	}()
	for i, a := range specs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := rand.New(rand.NewPCG(uint64(i), 1))
			for s := int64(0); s < seconds; s++ {
				w, err := FromSecond(a.id, s, uint64(s), second(r, a, s, names, nil))
				if err != nil {
					t.Error(err)
					return
				}
				if _, err := m.Add(w); err != nil {
					t.Error(err)
				}
				if _, err := m.Add(w); err != nil { // every window sent twice
					t.Error(err)
				}
			}
		}()
	}
	wg.Wait()
	close(stop)
	<-done
	emitted = append(emitted, m.Ready(t0)...)
	if len(emitted) != seconds {
		t.Fatalf("emitted %v, want %d seconds", indexes(emitted), seconds)
	}
	for i, sec := range emitted {
		want := int64(agents * 20 * len(names))
		if sec.Index != int64(i) || sec.Total.Requests != want || sec.Total.Hist.TotalCount() != want {
			t.Errorf("second %d (index %d): %d requests, histogram %d, want %d", i, sec.Index, sec.Total.Requests, sec.Total.Hist.TotalCount(), want)
		}
	}
	if st := m.Stats(); st.Accepted != agents*seconds || st.Duplicates != agents*seconds {
		t.Errorf("stats %+v, want %d accepted and as many duplicates", st, agents*seconds)
	}
}

func indexes(ss []Second) []int64 {
	out := make([]int64, len(ss))
	for i, s := range ss {
		out[i] = s.Index
	}
	return out
}
