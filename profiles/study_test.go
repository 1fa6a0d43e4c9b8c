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

func TestRecorderAttachesTheDegradedStepsTopToTheCPUFinding(t *testing.T) {
	var baseBuf, degBuf bytes.Buffer
	if err := newCPU().add(100*ms, burn, limited, srv).add(600*ms, json, list, limited, srv).add(300*ms, gc).
		withSpan(time.Second).p.Write(&baseBuf); err != nil {
		t.Fatal(err)
	}
	if err := newCPU().add(1500*ms, sha, burn, limited, srv).add(700*ms, json, list, limited, srv).add(100*ms, gc).
		withSpan(time.Second).p.Write(&degBuf); err != nil {
		t.Fatal(err)
	}
	var asked atomic.Int32
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/debug/pprof/profile" {
			http.NotFound(w, r) // a service that serves only the CPU profile
			return
		}
		if r.URL.Query().Get("seconds") != "2" {
			http.Error(w, "unexpected "+r.URL.String(), http.StatusBadRequest)
			return
		}
		switch asked.Add(1) {
		case 1:
			_, _ = w.Write(baseBuf.Bytes())
		case 4:
			http.Error(w, "gone", http.StatusServiceUnavailable)
		default:
			_, _ = w.Write(degBuf.Bytes())
		}
	}))
	defer ts.Close()
	rec, err := NewRecorder(ts.URL+"/debug/pprof", RecorderHooks{})
	if err != nil {
		t.Fatal(err)
	}
	t0 := time.Date(2026, 12, 7, 1, 0, 0, 0, time.UTC)
	var step int
	prober := rec.Prober(capacity.ProberFunc(func(ctx context.Context, p capacity.Probe) (capacity.Summary, error) {
		step++
		start := t0.Add(time.Duration(step) * time.Minute)
		return capacity.Summary{Start: start, End: start.Add(2 * time.Second), Requests: int64(100 * step)}, nil
	}))
	probe := capacity.Probe{Holds: []capacity.Hold{{Rate: 10, Duration: 2 * time.Second}}}
	var st capacity.Study
	verdicts := []capacity.Verdict{capacity.Acceptable, capacity.Acceptable, capacity.Unacceptable, capacity.Unacceptable}
	for _, v := range verdicts {
		s, err := prober.Probe(context.Background(), probe)
		if err != nil {
			t.Fatal(err)
		}
		st.Steps = append(st.Steps, capacity.Step{Start: s.Start, Verdict: v})
	}
	got := strings.Join(rec.Problems(), "\n")
	if n := strings.Count(got, "503"); n != 1 {
		t.Errorf("problems %q, want the 4th step's 503 once", got)
	}
	for _, k := range []string{"allocs", "mutex", "block"} {
		if n := strings.Count(got, k+" profile not available"); n != 1 {
			t.Errorf("problems %q: %q not available %d times, want once over 4 steps", got, k, n)
		}
	}
	d, ok, err := rec.StudyDiff(st)
	if err != nil || !ok {
		t.Fatalf("StudyDiff: ok %v, %v", ok, err)
	}
	findings := []correlate.Finding{{Kind: "cpu_usage"}, {Kind: "pool_wait"}}
	lines := Attach(findings, d, 3)
	// Only step 3 is degraded and profiled (step 4's fetch failed): 1500 of
	// 2300 ms, 300 requests; handleListProducts rose in rate (700 against 600 ms a second) though its share fell.
	want := "Profile: 65% of CPU in shop.burnCPU (mostly sha256.blockAVX2) under shop.(*Server).serveLimited (+55 points against the baseline; 5.0 ms per request)."
	if len(lines) == 0 || lines[0] != want {
		t.Fatalf("lines %q\nwant first %s", lines, want)
	}
	if f := findings[0].Evidence.Facts; len(f) != len(lines) || f[0] != want {
		t.Errorf("cpu_usage facts %q", f)
	}
	if f := findings[1].Evidence.Facts; len(f) != 0 {
		t.Errorf("pool_wait got facts %q", f)
	}
	if r, err := NewRecorder("", RecorderHooks{}); r != nil || err != nil {
		t.Errorf("no base: %v %v", r, err)
	}
	if _, err := NewRecorder("localhost:6060", RecorderHooks{}); err == nil {
		t.Error("base without scheme accepted")
	}
}

// allocProfile is an allocs profile of a second: each stack (leaf first)
// allocated its bytes.
func allocProfile(t *testing.T, stacks map[string]int64) []byte {
	t.Helper()
	b := newCPU()
	b.p.SampleType = []*profile.ValueType{{Type: "alloc_objects", Unit: "count"}, {Type: "alloc_space", Unit: "bytes"},
		{Type: "inuse_objects", Unit: "count"}, {Type: "inuse_space", Unit: "bytes"}}
	b.p.PeriodType = &profile.ValueType{Type: "space", Unit: "bytes"}
	b.p.Period = 512 * 1024
	for stack, bytes := range stacks {
		b.add(0, strings.Split(stack, ";")...)
		b.p.Sample[len(b.p.Sample)-1].Value = []int64{bytes / 16, bytes, 0, 0}
	}
	b.withSpan(time.Second)
	var buf bytes.Buffer
	if err := b.p.Write(&buf); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestRecorderNamesTheAllocatingFunctionInTheGCFinding(t *testing.T) {
	const (
		listFn  = shopPkg + "list"
		allocFn = shopPkg + "(*allocator).alloc"
		mallocg = "runtime.mallocgc"
	)
	base := allocProfile(t, map[string]int64{json + ";" + list + ";" + srv: 100 << 10})
	deg := allocProfile(t, map[string]int64{mallocg + ";" + listFn + ";" + allocFn + ";" + limited: 700 << 10,
		json + ";" + list + ";" + srv: 300 << 10})
	var cpu bytes.Buffer
	if err := newCPU().add(100*ms, burn).withSpan(time.Second).p.Write(&cpu); err != nil {
		t.Fatal(err)
	}
	var allocs atomic.Int32
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/debug/pprof/profile":
			_, _ = w.Write(cpu.Bytes())
		case "/debug/pprof/allocs":
			if allocs.Add(1) == 1 {
				_, _ = w.Write(base)
			} else {
				_, _ = w.Write(deg)
			}
		default:
			http.NotFound(w, r)
		}
	}))
	defer ts.Close()
	var kept []Kept
	steps := []string{"baseline", "explore"}
	var n int
	rec, err := NewRecorder(ts.URL+"/debug/pprof", RecorderHooks{
		Label:     func() (string, int) { return steps[n], n + 1 },
		OnProfile: func(k Kept) { kept = append(kept, k) },
	})
	if err != nil {
		t.Fatal(err)
	}
	t0 := time.Date(2026, 12, 7, 1, 0, 0, 0, time.UTC)
	prober := rec.Prober(capacity.ProberFunc(func(ctx context.Context, p capacity.Probe) (capacity.Summary, error) {
		start := t0.Add(time.Duration(n) * time.Minute)
		return capacity.Summary{Start: start, Requests: 64}, nil
	}))
	probe := capacity.Probe{Holds: []capacity.Hold{{Rate: 10, Duration: time.Second}}}
	var st capacity.Study
	for i, v := range []capacity.Verdict{capacity.Acceptable, capacity.Unacceptable} {
		n = i
		s, err := prober.Probe(context.Background(), probe)
		if err != nil {
			t.Fatal(err)
		}
		st.Steps = append(st.Steps, capacity.Step{Start: s.Start, Verdict: v})
	}
	if len(kept) != 4 || kept[0].Phase != "baseline" || kept[3].Phase != "explore" || kept[3].Step != 2 || kept[3].Requests != 64 {
		t.Errorf("kept %+v, want a CPU and an allocs profile of each step, labelled", kept)
	}
	d, ok, err := rec.KindDiff(st, Allocs)
	if err != nil || !ok {
		t.Fatalf("KindDiff(allocs): ok %v, %v", ok, err)
	}
	findings := []correlate.Finding{{Kind: correlate.KindGC}, {Kind: correlate.KindCPU}}
	lines := AttachTo(findings, d, 1, FindingKinds(Allocs)...)
	// list: 700 of 1000 KiB (70%, none at baseline), 700 KiB / 64 requests.
	want := "Allocation profile: 70% of allocated bytes in shop.list (mostly runtime.mallocgc) under shop.(*allocator).alloc (+70 points against the baseline; 10.9 KiB per request)."
	if len(lines) != 1 || lines[0] != want {
		t.Fatalf("lines %q\nwant %s", lines, want)
	}
	if f := findings[0].Evidence.Facts; len(f) != 1 || f[0] != want {
		t.Errorf("gc_pause facts %q", f)
	}
	if f := findings[1].Evidence.Facts; len(f) != 0 {
		t.Errorf("cpu_usage got the allocation facts %q", f)
	}
}

func TestRecorderLeavesCooldownsStressAndVerifyUnprofiled(t *testing.T) {
	var asked atomic.Int32
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		asked.Add(1)
		http.NotFound(w, r)
	}))
	defer ts.Close()
	for _, phase := range []capacity.Phase{capacity.PhaseCooldown, capacity.PhaseStress, capacity.PhaseVerify} {
		rec, err := NewRecorder(ts.URL+"/debug/pprof", RecorderHooks{Label: func() (string, int) { return string(phase), 3 }})
		if err != nil {
			t.Fatal(err)
		}
		probed := false
		prober := rec.Prober(capacity.ProberFunc(func(ctx context.Context, p capacity.Probe) (capacity.Summary, error) {
			probed = true
			return capacity.Summary{Start: time.Now()}, nil
		}))
		if _, err := prober.Probe(context.Background(), capacity.Probe{Holds: []capacity.Hold{{Rate: 10, Duration: time.Minute}}}); err != nil {
			t.Fatal(err)
		}
		if !probed || asked.Load() != 0 || len(rec.Steps()) != 0 {
			t.Errorf("%s: probed %v, %d profile requests, %d steps recorded; want the probe alone", phase, probed, asked.Load(), len(rec.Steps()))
		}
	}
}
