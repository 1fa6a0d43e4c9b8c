package profiles

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/pprof/profile"

	"github.com/headroom-sre/headroom/capacity"
	"github.com/headroom-sre/headroom/correlate"
)

// delayProfile is a mutex or block profile of a second: each stack (leaf
// first) with its nanoseconds of delay.
func delayProfile(t *testing.T, stacks map[string]int64) []byte {
	t.Helper()
	b := newCPU()
	b.p.SampleType = []*profile.ValueType{{Type: "contentions", Unit: "count"}, {Type: "delay", Unit: "nanoseconds"}}
	b.p.PeriodType = &profile.ValueType{Type: "contentions", Unit: "count"}
	b.p.Period = 1
	for stack, ns := range stacks {
		b.add(0, strings.Split(stack, ";")...)
		b.p.Sample[len(b.p.Sample)-1].Value = []int64{ns / 1e6, ns}
	}
	b.withSpan(time.Second)
	var buf bytes.Buffer
	if err := b.p.Write(&buf); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestLockFindingNamesTheHolder(t *testing.T) {
	const (
		hold   = shopPkg + "(*sharedLock).hold"
		unlock = "sync.(*Mutex).Unlock"
		lock   = "sync.(*Mutex).Lock"
	)
	mutexBase := delayProfile(t, map[string]int64{"runtime.unlock;" + gc: 1e5})
	mutexDeg := delayProfile(t, map[string]int64{unlock + ";" + hold + ";" + limited: 300 * ms, "runtime.unlock;" + gc: 1e5})
	blockDeg := delayProfile(t, map[string]int64{lock + ";" + hold + ";" + limited: 250 * ms})
	var n atomic.Int32 // steps started
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		base := n.Load() == 1
		switch {
		case r.URL.Path == "/debug/pprof/mutex" && base:
			_, _ = w.Write(mutexBase)
		case r.URL.Path == "/debug/pprof/mutex":
			_, _ = w.Write(mutexDeg)
		case r.URL.Path == "/debug/pprof/block" && base:
			_, _ = w.Write(delayProfile(t, map[string]int64{"runtime.selectgo;" + srv: 1e9}))
		case r.URL.Path == "/debug/pprof/block":
			_, _ = w.Write(blockDeg)
		default:
			http.NotFound(w, r)
		}
	}))
	defer ts.Close()
	rec, err := NewRecorder(ts.URL+"/debug/pprof", RecorderHooks{})
	if err != nil {
		t.Fatal(err)
	}
	t0 := time.Date(2026, 12, 7, 1, 0, 0, 0, time.UTC)
	prober := rec.Prober(capacity.ProberFunc(func(ctx context.Context, p capacity.Probe) (capacity.Summary, error) {
		return capacity.Summary{Start: t0.Add(time.Duration(n.Load()) * time.Minute), Requests: 100}, nil
	}))
	probe := capacity.Probe{Holds: []capacity.Hold{{Rate: 10, Duration: time.Second}}}
	study := func(meanMs float64) capacity.Study {
		var st capacity.Study
		n.Store(0)
		for i, v := range []capacity.Verdict{capacity.Acceptable, capacity.Unacceptable} {
			n.Add(1)
			s, err := prober.Probe(context.Background(), probe)
			if err != nil {
				t.Fatal(err)
			}
			st.Steps = append(st.Steps, capacity.Step{Start: s.Start, Verdict: v, Throughput: 100, Seconds: 1,
				Latency: capacity.Latency{Mean: float64(1+i) * meanMs}})
		}
		return st
	}

	// 300 ms of waiting over 100 requests: 3 ms each, of a 5 ms mean.
	f, ok, err := rec.LockFinding(study(2.5))
	if err != nil || !ok {
		t.Fatalf("LockFinding: ok %v, %v", ok, err)
	}
	if f.Kind != KindLockWait || f.Title != "Requests queue on a Go lock held in shop.(*sharedLock).hold" || f.Score < 0.59 || f.Score > 0.61 {
		t.Errorf("finding %s %q score %.2f, want lock_contention naming the holder, score 0.60", f.Kind, f.Title, f.Score)
	}
	facts := strings.Join(f.Evidence.Facts, "\n")
	for _, want := range []string{
		"each request waited 3.0 ms on average for a lock shop.(*sharedLock).hold held, 60% of their mean latency (5.0 ms)",
		"Mutex profile: 100% of lock-wait time in shop.(*sharedLock).hold (mostly sync.(*Mutex).Unlock) under shop.(*Server).serveLimited (+100 points against the baseline; 3.0 ms per request)",
		"Block profile: 100% of blocked time in shop.(*sharedLock).hold (mostly sync.(*Mutex).Lock)",
	} {
		if !strings.Contains(facts, want) {
			t.Errorf("facts\n%s\nwant %q", facts, want)
		}
	}
	if !strings.Contains(f.Recommendation, "shop.(*sharedLock).hold") {
		t.Errorf("recommendation %q does not name the holder", f.Recommendation)
	}

	others := []correlate.Finding{{Kind: correlate.KindCPU, Score: 0.9}, {Kind: correlate.KindGC, Score: 0.2}}
	all := AddFinding(others, f)
	if len(all) != 3 || all[1].Kind != KindLockWait || all[0].Rank != 1 || all[1].Rank != 2 || all[2].Rank != 3 {
		t.Errorf("AddFinding: %+v, want the lock finding second of three, ranks 1..3", all)
	}

	// The same waits against a 100 ms mean latency (3%) are no finding.
	if _, ok, err := rec.LockFinding(study(50)); ok || err != nil {
		t.Errorf("a 3 ms wait of a 100 ms mean latency: ok %v, %v; want no finding", ok, err)
	}
}
